# The persistent Python REPL: runs code in __main__'s namespace on the main thread.

import linecache
import os
import signal
import sys

from .capture import flush_std_streams
from .dedent import dedent
from .errors import from_os_error

FILENAME = "<exec>"
EXIT_INTERRUPTED = 130


class Repl:
    def __init__(self, capture):
        # __main__'s dict, so classes defined here pickle as __main__.X.
        self.globals = sys.modules["__main__"].__dict__
        self.capture = capture
        self._pid = os.getpid()

    def run(self, job, cwd):
        """Run job.code; return its exit code. Raises GuestError if cwd cannot be entered."""
        saved_env = _apply_env(job.env)
        prev_cwd = None
        try:
            if cwd is not None:
                prev_cwd = _getcwd()
                try:
                    os.chdir(cwd)
                except OSError as e:
                    raise from_os_error(e, cwd, "cannot enter") from None
            self.capture.install()
            self.capture.begin(job.conn, job.id)
            try:
                code = self._execute(job)
            finally:
                self.capture.end()
        finally:
            if prev_cwd is not None:
                try:
                    os.chdir(prev_cwd)
                except OSError:
                    pass
            _restore_env(saved_env)
        return code

    def _execute(self, job):
        source = dedent(job.code)  # line count kept: traceback line numbers stay the user's
        linecache.cache[FILENAME] = (len(source), None, source.splitlines(True), FILENAME)
        compiled = []
        exc = _run_user(source, self.globals, compiled, lambda: job.interrupted)
        if os.getpid() != self._pid:
            # User code forked and the child fell out of the cell: it must not act as the kernel.
            os._exit(_exit_code(exc) & 0xFF if exc is None or isinstance(exc, SystemExit) else 1)
        if exc is None:
            return 0
        if isinstance(exc, SystemExit):
            return self._system_exit(exc)
        self._report(exc, compiled[0] if compiled else None)
        return EXIT_INTERRUPTED if isinstance(exc, KeyboardInterrupt) else 1

    def _system_exit(self, exc):
        code = _exit_code(exc)
        if not isinstance(exc.code, int) and exc.code is not None:
            flush_std_streams()
            self.capture.write_stderr(_text(f"{exc.code}\n"))
        return code

    def _report(self, exc, module_code):
        """Print the traceback to stderr, without the kernel's own frames."""
        flush_std_streams()
        tb = _user_frames(exc.__traceback__)
        sys.last_type, sys.last_value, sys.last_traceback = type(exc), exc, tb
        if sys.version_info >= (3, 12):
            sys.last_exc = exc
        exc.__traceback__ = tb
        # linecache holds only this cell's source under <exec>: showing it for a frame of an
        # earlier cell would print the wrong lines, so then print no source at all.
        entry = linecache.cache.get(FILENAME)
        if entry and _has_foreign_frames(exc, _codes_of(module_code)):
            del linecache.cache[FILENAME]
        try:
            import traceback  # on the first error only: kept out of kernel start
            text = "".join(traceback.format_exception(type(exc), exc, tb))
        except Exception:
            text = f"{type(exc).__name__}: <could not format the exception>\n"
        finally:
            if entry:
                linecache.cache[FILENAME] = entry
        self.capture.write_stderr(_text(text))


def _compile_user(source, out, interrupted):
    # An interrupt that came while the kernel was still preparing the call was dropped by
    # on_sigint; honour it here, below _run_user, where raising is allowed.
    if interrupted():
        raise KeyboardInterrupt
    code = compile(source, FILENAME, "exec", dont_inherit=True)
    out.append(code)
    return code


def _run_user(source, globals_, out, interrupted):
    # Interrupts raise KeyboardInterrupt only in frames below this one (see on_sigint).
    try:
        exec(_compile_user(source, out, interrupted), globals_)
    except BaseException as e:
        return e
    return None


_RUN_USER_CODE = _run_user.__code__


def on_sigint(signum, frame):
    """SIGINT handler: interrupt user code only, never the kernel's own bookkeeping.

    The interrupt may land just after the cell returned; then the innermost frame is
    _run_user's (or the kernel's) and the signal is dropped instead of raising into it.
    """
    f = frame
    while f is not None:
        if f.f_code is _RUN_USER_CODE:
            if f is not frame:
                raise KeyboardInterrupt
            return
        f = f.f_back


def install_sigint():
    signal.signal(signal.SIGINT, on_sigint)


def _user_frames(tb):
    """Drop the kernel's frames: those above the cell, and on_sigint's at the bottom."""
    while tb is not None and tb.tb_frame.f_code.co_filename != FILENAME:
        tb = tb.tb_next
    entry = tb
    while entry is not None and entry.tb_next is not None:
        if entry.tb_next.tb_frame.f_code is on_sigint.__code__:
            entry.tb_next = None
        entry = entry.tb_next
    return tb


def _exit_code(exc):
    if exc is None or exc.code is None:
        return 0
    if isinstance(exc.code, int):
        code = int(exc.code)
        return code if -(2**31) <= code < 2**31 else code & 0xFF  # as a process exit would
    return 1


def _codes_of(code):
    found = set()
    stack = [code] if code is not None else []
    while stack:
        c = stack.pop()
        found.add(c)
        stack.extend(k for k in c.co_consts if isinstance(k, type(c)))
    return found


def _has_foreign_frames(exc, codes):
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        tb = exc.__traceback__
        while tb is not None:
            f_code = tb.tb_frame.f_code
            if f_code.co_filename == FILENAME and f_code not in codes:
                return True
            tb = tb.tb_next
        exc = exc.__cause__ or exc.__context__
    return False


def _apply_env(env):
    if not env:
        return None
    saved = {k: os.environ.get(k) for k in env}
    for k, v in env.items():
        os.environ[k] = v
    return saved


def _restore_env(saved):
    for k, v in (saved or {}).items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


def _getcwd():
    try:
        return os.getcwd()
    except OSError:
        return None  # the directory was removed; stay wherever the call leaves us


def _text(s):
    return s.encode("utf-8", "backslashreplace")
