# REPL contexts (E2B's): each its own `__main__` namespace and, optionally, its own working
# directory, in the one kernel process (modules, os.environ and threads stay shared). The
# default context is the one every exec without a context uses: __main__'s own dict.
# Contexts live in the kernel's heap, so a fork child gets copies of them all.

import builtins
import sys
import threading

from . import errors
from .errors import GuestError

DEFAULT_ID = "default"
MAX_CONTEXTS = 32  # the default one included; protocol limits.maxContexts


class Context:
    __slots__ = ("id", "globals", "cwd")

    def __init__(self, ctx_id, globals_, cwd=None):
        self.id = ctx_id
        self.globals = globals_
        self.cwd = cwd  # where its cells start; None: the kernel's current directory

    def describe(self):
        return {"id": self.id, "language": "python", "cwd": self.cwd}


def _fresh_namespace():
    return {"__name__": "__main__", "__builtins__": builtins, "__doc__": None}


class Contexts:
    def __init__(self):
        self._lock = threading.Lock()
        self._by_id = {DEFAULT_ID: Context(DEFAULT_ID, sys.modules["__main__"].__dict__)}

    def for_fork_child(self):
        """The same contexts in a fork child, with a new lock: the parent's may have been
        held by a connection thread, which the child does not have."""
        child = Contexts.__new__(Contexts)
        child._lock = threading.Lock()
        child._by_id = dict(self._by_id)
        return child

    def get(self, ctx_id):
        with self._lock:
            ctx = self._by_id.get(ctx_id or DEFAULT_ID)
        if ctx is None:
            raise _not_found(ctx_id)
        return ctx

    def list(self):
        with self._lock:
            return [c.describe() for c in self._by_id.values()]

    def create(self, ctx_id, cwd, max_count=MAX_CONTEXTS):
        with self._lock:
            if ctx_id in self._by_id:
                raise GuestError(errors.BUSY, f"context {ctx_id} exists already")
            if len(self._by_id) >= max_count:
                raise GuestError(errors.BUSY,
                                 f"the sandbox has {len(self._by_id)} contexts, the most allowed")
            ctx = Context(ctx_id, _fresh_namespace(), cwd)
            self._by_id[ctx_id] = ctx
        return ctx

    def restart(self, ctx_id):
        """An empty namespace for the context; its id and cwd stay."""
        ctx = self.get(ctx_id)
        if ctx.id == DEFAULT_ID:
            # __main__'s dict itself must stay (classes pickle as __main__.X): empty it.
            for name in list(ctx.globals):
                if not (name.startswith("__") and name.endswith("__")):
                    del ctx.globals[name]
        else:
            ctx.globals = _fresh_namespace()
        return ctx

    def delete(self, ctx_id):
        if (ctx_id or DEFAULT_ID) == DEFAULT_ID:
            raise GuestError(errors.BUSY, "the default context cannot be deleted; restart it instead")
        with self._lock:
            if self._by_id.pop(ctx_id, None) is None:
                raise _not_found(ctx_id)


def _not_found(ctx_id):
    return GuestError(errors.NOT_FOUND, f"context {ctx_id} not found: deleted, or lost when the REPL "
                                        "restarted; list the contexts or create a new one")
