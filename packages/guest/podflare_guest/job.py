# One queued request for the main thread (an exec, a fork, a Space save/load), and how an
# exec tells the user about problems that stop its code from running.

import errno

EXIT_USAGE = 2
EXIT_CANNOT_START = 127  # as a shell says when it cannot run a command


class Job:
    __slots__ = ("conn", "id", "lang", "code", "env", "cwd", "interrupted", "proc", "fork", "ctx",
                 "timeout_s", "started", "answered", "results")

    def __init__(self, conn, job_id, lang, code, env, cwd, fork_req=None, ctx=None, timeout_s=None,
                 results=True):
        self.conn = conn
        self.id = job_id
        self.lang = lang
        self.code = code
        self.env = env
        self.cwd = cwd
        self.interrupted = False  # set under Kernel.lock
        self.proc = None  # the bash process, once started
        self.fork = fork_req  # (child ids, descriptors, open files) of a fork request
        self.ctx = ctx  # the REPL context (contexts.py) an exec runs in; None: the default
        self.timeout_s = timeout_s  # the caller's timeout_ms, enforced here once it is gone
        self.started = 0.0  # time.monotonic() when it began to run
        self.answered = False  # interrupted before its turn, and told so at once
        self.results = results  # rich results and exception data wanted (hostd's `results`)


def env_problem(env):
    for k, v in (env or {}).items():
        if not k or "=" in k or "\0" in k:
            return f"invalid environment variable name {k!r}"
        if "\0" in v:
            return f"environment variable {k} contains a NUL byte"
    return None


def out_of_processes(e):
    """The pids limit shows as EAGAIN from fork/clone, or as Python's "can't start new thread"."""
    if isinstance(e, OSError) and e.errno == errno.EAGAIN:
        return True
    return isinstance(e, RuntimeError) and "can't start new thread" in str(e)


def say(job, message):
    job.conn.send({"t": "out", "id": job.id, "fd": 2},
                  f"podflare: {message}\n".encode("utf-8", "backslashreplace"))
