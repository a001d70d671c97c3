# The persistent Python REPL: runs code in __main__'s namespace on the main thread.

import linecache
import os
import signal
import sys

from . import display
from .capture import flush_std_streams
from .dedent import dedent
from .errors import from_os_error

FILENAME = "<exec>"
EXIT_INTERRUPTED = 130
_ONLY_AST = 0x400  # ast.PyCF_ONLY_AST, without importing ast at kernel start


class Repl:
    def __init__(self, capture, contexts):
        # __main__'s dict, so classes defined here pickle as __main__.X.
        self.globals = sys.modules["__main__"].__dict__
        self.contexts = contexts
        self.capture = capture
        self.publisher = display.Publisher(capture)
        display.install(self.publisher)
        self._pid = os.getpid()
        self._error = None  # (name, value, traceback text) of the cell's exception

    def run(self, job, cwd, ctx=None):
        """Run job.code in ctx (None: the default context); return its exit code. Raises
        GuestError if cwd cannot be entered."""
        if cwd is None and ctx is not None:
            cwd = ctx.cwd
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
            self.publisher.begin(job.conn, job.id, job.results)
            self._error = None
            try:
                code = self._execute(job, self.globals if ctx is None else ctx.globals)
            finally:
                self.publisher.end()
                self.capture.end()
            self.publisher.send_pending(job.conn, job.id)
            if self._error is not None and job.results:
                # After the traceback's stderr lines, which end() has sent.
                name, value, text = self._error
                job.conn.send({"t": "exc", "id": job.id, "name": name, "value": value,
                               "traceback": text})
        finally:
            if prev_cwd is not None:
                try:
                    os.chdir(prev_cwd)
                except OSError:
                    pass
            _restore_env(saved_env)
        return code

    def _execute(self, job, globals_):
        source = dedent(job.code)  # line count kept: traceback line numbers stay the user's
        linecache.cache[FILENAME] = (len(source), None, source.splitlines(True), FILENAME)
        compiled = []
        exc = _run_user(source, globals_, compiled, lambda: job.interrupted, self.publisher)
        if os.getpid() != self._pid:
            # User code forked and the child fell out of the cell: it must not act as the kernel.
            os._exit(_exit_code(exc) & 0xFF if exc is None or isinstance(exc, SystemExit) else 1)
        if exc is None:
            return 0
        if isinstance(exc, SystemExit):
            return self._system_exit(exc)
        self._report(exc, compiled)
        return EXIT_INTERRUPTED if isinstance(exc, KeyboardInterrupt) else 1

    def _system_exit(self, exc):
        code = _exit_code(exc)
        if not isinstance(exc.code, int) and exc.code is not None:
            flush_std_streams()
            self.capture.write_stderr(_text(f"{exc.code}\n"))
        return code

    def _report(self, exc, compiled):
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
        if entry and _has_foreign_frames(exc, _codes_of(compiled)):
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
        self._error = (type(exc).__name__, _str_quietly(exc), text)


def _run_cell(source, globals_, out, interrupted, publisher):
    # An interrupt that came while the kernel was still preparing the call was dropped by
    # on_sigint; honour it here, below _run_user, where raising is allowed.
    if interrupted():
        raise KeyboardInterrupt
    try:
        tree = compile(source, FILENAME, "exec", _ONLY_AST, dont_inherit=True)
    except SyntaxError as not_python:
        # Maybe IPython's `!cmd` / `%pip` lines (magics.py); else the user's own error.
        from .magics import shell_escapes  # only for a cell that is not Python
        escaped = shell_escapes(source)
        if escaped is None:
            raise
        try:
            tree = compile(escaped, FILENAME, "exec", _ONLY_AST, dont_inherit=True)
        except SyntaxError:
            raise not_python from None
        source = escaped
    last = _last_expression(tree, source)
    code = compile(tree, FILENAME, "exec", dont_inherit=True)
    out.append(code)
    exec(code, globals_)
    if last is not None:
        value_code = compile(last, FILENAME, "eval", dont_inherit=True)
        out.append(value_code)
        value = eval(value_code, globals_)
        if value is not None:
            publisher.publish(value, main=True)


def _last_expression(tree, source):
    """The cell's last statement as an expression to show, as Jupyter does: None when it is
    not an expression or a trailing `;` asks for silence. Removed from tree."""
    if not tree.body or type(tree.body[-1]).__name__ != "Expr":
        return None
    node = tree.body[-1]
    lines = source.splitlines(True)
    # Offsets are in UTF-8 bytes. After the last statement come only `;`, comments, blanks.
    tail = lines[node.end_lineno - 1].encode("utf-8")[node.end_col_offset:].decode("utf-8", "replace")
    tail += "".join(lines[node.end_lineno:])
    if tail.lstrip(" \t\r\n\\\f").startswith(";"):
        return None
    tree.body.pop()
    import ast  # only for a cell that ends in an expression

    expr = ast.Expression(node.value)
    return ast.fix_missing_locations(expr)


def _run_user(source, globals_, out, interrupted, publisher):
    # Interrupts raise KeyboardInterrupt only in frames below this one (see on_sigint), which
    # include formatting the results (a slow repr, savefig).
    error = None
    try:
        _run_cell(source, globals_, out, interrupted, publisher)
    except BaseException as e:
        error = e
    try:
        # Figures are shown after a failed cell too, as in Jupyter.
        publisher.flush_figures()
        display.patch_ipython(publisher)
    except BaseException as e:
        error = error or e
    return error


_RUN_USER_CODE = _run_user.__code__
_SEND_RESULT_CODE = display.Publisher.send.__code__


_interrupt_unseen = False  # the kernel sent SIGINT and on_sigint has not run since


def note_interrupt_sent():
    global _interrupt_unseen
    _interrupt_unseen = True


def interrupt_unseen():
    """True while the kernel's last SIGINT has not reached on_sigint (kernel.RESIGNAL_AFTER_S)."""
    return _interrupt_unseen


def on_sigint(signum, frame):
    """SIGINT handler: interrupt user code only, never the kernel's own bookkeeping.

    The interrupt may land just after the cell returned; then the innermost frame is
    _run_user's (or the kernel's) and the signal is dropped instead of raising into it.
    One landing while a result is being sent is deferred until the send is done.
    """
    global _interrupt_unseen
    _interrupt_unseen = False
    f = frame
    while f is not None:
        if f.f_code is _SEND_RESULT_CODE:
            f.f_locals["self"].defer_interrupt()
            return
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


def _codes_of(compiled):
    found = set()
    stack = list(compiled)
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


def _str_quietly(exc):
    try:
        return str(exc)
    except Exception:
        return ""
