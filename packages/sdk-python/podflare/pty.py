"""Interactive terminals (``sandbox.pty``) for the Python SDK. A PTY is a background process
with a terminal; this module drives it over REST (start with ``pty``, output from the
process stream, input, resize), not the WebSocket the TypeScript SDK uses: the stdlib has no
WebSocket client, and the REST calls give the same terminal.

Example::

    t = sb.pty.open(rows=24, cols=80)
    t.write("stty size\\r")
    for ev in t.output():
        print(ev.data, end="")
"""

from __future__ import annotations

from typing import Iterator, Optional, Union

from .processes import ProcessEvent, ProcessInfo, Processes


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


class Pty:
    def __init__(self, processes: Processes):
        self._p = processes

    def open(self, cmd: Optional[str] = None, *, rows: int = 24, cols: int = 80, cwd: Optional[str] = None,
             env: Optional[dict] = None) -> Terminal:
        """Starts ``cmd`` (a shell command line; default an interactive ``bash -i -l``) on a terminal."""
        if cmd is None:
            info = self._p.start("/bin/bash", ["-i", "-l"], cwd=cwd, env=env,
                                 pty={"rows": rows, "cols": cols})
        else:
            info = self._p.start(cmd, cwd=cwd, env=env, pty={"rows": rows, "cols": cols})
        return Terminal(self._p, info)
