"""REPL contexts (docs/api.md, "Contexts"): each its own ``__main__`` namespace, and
optionally the directory its cells start in, in one sandbox. The Sandbox methods call these."""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass
from typing import Any, Optional, Union

from .base import SandboxBase
from .errors import ProtocolError
from .paths import sandbox_path


@dataclass(frozen=True)
class Context:
    """A REPL context: pass it (or its id) as ``run_code(code, context=ctx)``."""

    id: str
    language: str = "python"
    cwd: Optional[str] = None


def context_id(context: Union[Context, str]) -> str:
    return context if isinstance(context, str) else context.id


def _to_context(value: Any, what: str) -> Context:
    if not isinstance(value, dict) or not isinstance(value.get("id"), str):
        raise ProtocolError(f"{what}: the answer has no context")
    return Context(value["id"], value.get("language") or "python", value.get("cwd"))


def create(transport: Any, base: str, cwd: Optional[str]) -> Context:
    body = {"cwd": cwd} if cwd is not None else {}
    return _to_context(transport.json("POST", f"{base}/contexts", json_body=body), "create context")


def list_all(transport: Any, base: str) -> list[Context]:
    answer = transport.json("GET", f"{base}/contexts")
    items = answer.get("contexts") if isinstance(answer, dict) else None
    return [_to_context(c, "list contexts") for c in items or []]


def restart(transport: Any, base: str, context: Union[Context, str]) -> Context:
    cid = urllib.parse.quote(context_id(context), safe="")
    return _to_context(transport.json("POST", f"{base}/contexts/{cid}/restart"), "restart context")


def delete(transport: Any, base: str, context: Union[Context, str]) -> None:
    transport.request("DELETE", f"{base}/contexts/{urllib.parse.quote(context_id(context), safe='')}")


class ContextMethods(SandboxBase):
    """The Sandbox methods for REPL contexts."""

    def create_context(self, cwd: str | None = None) -> Context:
        """Creates a REPL context: its own ``__main__`` namespace (and, with ``cwd``, the
        directory its cells start in), at most 32 with the default one. Contexts are copied
        into fork children and lost when the REPL restarts.

        Example::

            ctx = sb.create_context(cwd="/tmp")
            sb.run_code("x = 1", context=ctx)
        """
        self._check_open()
        return create(self._transport, sandbox_path(self.id, ""), cwd)

    def list_contexts(self) -> list[Context]:
        """The sandbox's REPL contexts, the default one (id "default") first.

        Example::

            ids = [c.id for c in sb.list_contexts()]
        """
        self._check_open()
        return list_all(self._transport, sandbox_path(self.id, ""))

    def restart_context(self, context: Context | str) -> Context:
        """Empties a context's namespace; its id and cwd stay.

        Example::

            sb.restart_context(ctx)
        """
        self._check_open()
        return restart(self._transport, sandbox_path(self.id, ""), context)

    def delete_context(self, context: Context | str) -> None:
        """Deletes a context (not the default one); running code in it then raises
        ``NotFoundError``.

        Example::

            sb.delete_context(ctx)
        """
        self._check_open()
        delete(self._transport, sandbox_path(self.id, ""), context)
