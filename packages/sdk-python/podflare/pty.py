"""Interactive terminals (``sandbox.pty``) for the Python SDK. A PTY is a background process
with a terminal; this module drives it over REST (start with ``pty``, output from the
process stream, input, resize), not the WebSocket the TypeScript SDK uses: the stdlib has no
WebSocket client, and the REST calls give the same terminal.

Two faces: ``open`` gives a :class:`Terminal` (output as an iterator of events), and the
hosted SDK's ``create`` / ``attach`` / ``send_input`` / ``resize`` / ``kill`` give a
:class:`PtyHandle` whose output goes to an ``on_data`` callback from a reader thread.

Example::

    t = sb.pty.open(rows=24, cols=80)
    t.write("stty size\\r")
    for ev in t.output():
        print(ev.data, end="")

    pty = sb.pty.create(cmd="python3 -q", cols=120, rows=40,
                        on_data=lambda chunk: print(chunk.decode(), end=""))
    pty.send_input("exit()\\r")
    print(pty.wait())  # 0
"""

from __future__ import annotations

import base64
import threading
from typing import Any, Callable, Iterator, Optional, Union

from .processes import ProcessEvent, ProcessInfo, ProcessRef, Processes


class Terminal:
    def __init__(self, processes: Processes, info: ProcessInfo):
        self._p = processes
        self.process = info

    @property
    def pid(self) -> int:
        return self.process.pid

    def output(self, *, from_now: bool = False) -> Iterator[ProcessEvent]:
        """Terminal output as "pty" events (recent output first), then "exit"."""
        return self._p.connect(self.pid, from_now=from_now)

    def write(self, data: Union[str, bytes]) -> None:
        """Types into the terminal (e.g. "ls\\r", "\\x03" for Ctrl-C)."""
        self._p.send_stdin(self.pid, data)

    def resize(self, rows: int, cols: int) -> None:
        self._p.resize(self.pid, rows, cols)

    def wait(self) -> ProcessInfo:
        return self._p.wait(self.pid)

    def close(self) -> None:
        """Hangs up (SIGHUP), as a closing terminal does."""
        self._p.signal(self.pid, "SIGHUP")


class PtyHandle:
    """A PTY process driven the hosted SDK's way. With ``on_data``, a daemon thread reads the
    terminal's output (the ring buffer's recent output first, then live) and hands each
    chunk to it as bytes; ``wait()`` returns once that reader saw the exit. With
    ``timeout_ms`` > 0 the process is killed that long after the handle was made; 0 or None
    keeps it until it exits, is killed, or the sandbox closes."""

    def __init__(self, processes: Processes, info: ProcessInfo,
                 on_data: Optional[Callable[[bytes], Any]] = None, timeout_ms: Optional[int] = None):
        self._p = processes
        self.process = info
        self._exit_code: Optional[int] = None
        self._error: Optional[BaseException] = None
        self._reader: Optional[threading.Thread] = None
        self._timer: Optional[threading.Timer] = None
        if on_data is not None:
            self._reader = threading.Thread(target=self._read, args=(on_data,), daemon=True,
                                            name=f"podflare-pty-{info.pid}")
            self._reader.start()
        if timeout_ms:
            self._timer = threading.Timer(timeout_ms / 1000, self._expire)
            self._timer.daemon = True
            self._timer.start()

    @property
    def pid(self) -> int:
        return self.process.pid

    def _read(self, on_data: Callable[[bytes], Any]) -> None:
        try:
            for raw in self._p.raw_stream(self.pid, "?encoding=base64"):
                if raw.get("type") == "exit":
                    self._exit_code = raw.get("exit_code")
                elif "data_base64" in raw:
                    on_data(base64.b64decode(raw["data_base64"]))
        except BaseException as err:  # handed to wait()
            self._error = err

    def _expire(self) -> None:
        try:
            self.kill()
        except Exception:
            pass  # it exited meanwhile

    def send_input(self, data: Union[str, bytes]) -> None:
        """Types into the terminal (e.g. "ls\\r", b"\\x03" for Ctrl-C)."""
        self._p.send_stdin(self.pid, data)

    def resize(self, *, cols: int, rows: int) -> None:
        """New terminal size; the program gets SIGWINCH."""
        self._p.resize(self.pid, rows, cols)

    def kill(self) -> None:
        """SIGKILL to the program (and its process group)."""
        self._p.kill(self.pid)

    def wait(self) -> int:
        """Blocks until the program exited (and ``on_data`` has had all its output); its exit code."""
        try:
            if self._reader is None:
                return int(self._p.wait(self.pid).exit_code)  # type: ignore[arg-type]
            self._reader.join()
            if self._error is not None:
                raise self._error
            return int(self._exit_code)  # type: ignore[arg-type]
        finally:
            if self._timer is not None:
                self._timer.cancel()


class Pty:
    def __init__(self, processes: Processes):
        self._p = processes

    def create(self, cmd: Optional[str] = None, *, cols: int = 80, rows: int = 24,
               on_data: Optional[Callable[[bytes], Any]] = None, timeout_ms: Optional[int] = None,
               cwd: Optional[str] = None, env: Optional[dict] = None) -> PtyHandle:
        """Starts ``cmd`` (a shell command line; default an interactive ``bash -i -l``) on a
        terminal of ``cols`` x ``rows``, as the hosted SDK's ``pty.create``. Output goes to
        ``on_data`` (bytes); ``timeout_ms`` > 0 kills it after that long, 0 keeps it.

        Example::

            pty = sb.pty.create(cmd="npm init", cols=120, rows=40, timeout_ms=0,
                                on_data=lambda chunk: print(chunk.decode(), end=""))
            pty.send_input("\\r" * 9)
            pty.resize(cols=200, rows=50)
            exit_code = pty.wait()
        """
        args = None if cmd is not None else ["-i", "-l"]
        info = self._p.start(cmd if cmd is not None else "/bin/bash", args, cwd=cwd, env=env,
                             pty={"rows": rows, "cols": cols})
        return PtyHandle(self._p, info, on_data, timeout_ms)

    def attach(self, pid: ProcessRef, *, on_data: Optional[Callable[[bytes], Any]] = None) -> PtyHandle:
        """A handle on a running PTY process (by pid or tag), e.g. in a later agent turn:
        ``on_data`` first gets the recent output the server still holds, then live output.

        Example::

            pid = sb.pty.create(cmd="python3 -q").pid
            later = sb.pty.attach(pid, on_data=lambda c: print(c.decode(), end=""))
        """
        return PtyHandle(self._p, self._p.get(pid), on_data)

    def send_input(self, pid: ProcessRef, data: Union[str, bytes]) -> None:
        """Types into the PTY process ``pid``."""
        self._p.send_stdin(pid, data)

    def resize(self, pid: ProcessRef, *, cols: int, rows: int) -> None:
        """Resizes the PTY process ``pid``'s terminal (SIGWINCH)."""
        self._p.resize(pid, rows, cols)

    def kill(self, pid: ProcessRef) -> None:
        """SIGKILL to the PTY process ``pid``."""
        self._p.kill(pid)

    def open(self, cmd: Optional[str] = None, *, rows: int = 24, cols: int = 80, cwd: Optional[str] = None,
             env: Optional[dict] = None) -> Terminal:
        """Starts ``cmd`` (a shell command line; default an interactive ``bash -i -l``) on a terminal."""
        if cmd is None:
            info = self._p.start("/bin/bash", ["-i", "-l"], cwd=cwd, env=env,
                                 pty={"rows": rows, "cols": cols})
        else:
            info = self._p.start(cmd, cwd=cwd, env=env, pty={"rows": rows, "cols": cols})
        return Terminal(self._p, info)
