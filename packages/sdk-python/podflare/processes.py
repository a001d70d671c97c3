"""Background processes in a sandbox (``sandbox.processes``): start, list, stream output (a
late reader sees recent output first), stdin, signals, wait. REST: docs/api.md, "Processes".

Example::

    p = sb.processes.start("python3 -m http.server 8000", tag="web")
    for ev in sb.processes.connect("web"):
        print(ev.type, ev.data)
"""

from __future__ import annotations

import base64
import dataclasses
from dataclasses import dataclass
from typing import Any, Iterator, Optional, Union
from urllib.parse import quote

from .connection import Transport
from .errors import ProtocolError
from .events import NdjsonDecoder

ProcessRef = Union[int, str]


@dataclass(frozen=True)
class ProcessInfo:
    """A process started through the API. ``exit_code`` is set once it exited (killed by a
    signal: 128 + its number, as in a shell, and ``signal`` names it)."""

    pid: int
    cmd: str
    args: Optional[list]
    cwd: str
    tag: Optional[str]
    pty: bool
    running: bool
    exit_code: Optional[int]
    signal: Optional[str]
    started_ms: int
    stdin: bool


@dataclass(frozen=True)
class ProcessEvent:
    """One event of ``connect``: ``type`` is "start" (``process``), "stdout", "stderr" or
    "pty" (``data``), or "exit" (``exit_code``, ``signal``)."""

    type: str
    data: str = ""
    process: Optional[ProcessInfo] = None
    exit_code: Optional[int] = None
    signal: Optional[str] = None


_FIELDS = {f.name for f in dataclasses.fields(ProcessInfo)}


def to_process_info(raw: Any) -> ProcessInfo:
    if not isinstance(raw, dict):
        raise ProtocolError(f"expected a process object, got {raw!r:.200}")
    return ProcessInfo(**{k: raw.get(k) for k in _FIELDS})


def _event(raw: Any) -> ProcessEvent:
    t = raw.get("type")
    if t == "start":
        return ProcessEvent("start", process=to_process_info(raw.get("process")))
    if t == "exit":
        return ProcessEvent("exit", exit_code=raw.get("exit_code"), signal=raw.get("signal"))
    return ProcessEvent(t, data=raw.get("data", ""))


class Processes:
    def __init__(self, transport: Transport, sandbox_id: str):
        self._t = transport
        self._id = sandbox_id

    def _path(self, ref: Optional[ProcessRef] = None, op: str = "") -> str:
        base = f"/v1/sandboxes/{quote(self._id, safe='')}/processes"
        return base if ref is None else f"{base}/{quote(str(ref), safe='')}{op}"

    def start(self, cmd: str, args: Optional[list] = None, *, env: Optional[dict] = None,
              cwd: Optional[str] = None, tag: Optional[str] = None, stdin: bool = False,
              pty: Optional[dict] = None) -> ProcessInfo:
        """Starts ``cmd`` in the background: a program with ``args``, or without them a
        ``bash -c`` command line. It outlives this call.

        Example::

            p = sb.processes.start("sleep 30; echo done", tag="job")
            print(sb.processes.wait("job").exit_code)
        """
        body: dict[str, Any] = {"cmd": cmd}
        for k, v in (("args", args), ("env", env), ("cwd", cwd), ("tag", tag), ("pty", pty)):
            if v is not None:
                body[k] = v
        if stdin:
            body["stdin"] = True
        return to_process_info(self._t.json("POST", self._path(), json_body=body))

    def list(self) -> list:
        return [to_process_info(p) for p in (self._t.json("GET", self._path()) or {}).get("processes", [])]

    def get(self, ref: ProcessRef) -> ProcessInfo:
        return to_process_info(self._t.json("GET", self._path(ref)))

    def connect(self, ref: ProcessRef, *, from_now: bool = False) -> Iterator[ProcessEvent]:
        """Yields the output the process's ring buffer still holds (unless ``from_now``),
        then live output, then ``exit``. Stop early with ``break``; the process goes on."""
        for raw in self.raw_stream(ref, "?from=now" if from_now else ""):
            yield _event(raw)

    def raw_stream(self, ref: ProcessRef, query: str = "") -> Iterator[dict]:
        """The process stream's events as the wire has them (``query`` e.g. "?encoding=base64"
        for exact output bytes in ``data_base64``), ending with ``exit``."""
        path = self._path(ref, "/stream" + query)
        decoder = NdjsonDecoder()
        exited = False
        chunks = self._t.stream("GET", path, timeout=None, accept="application/x-ndjson")
        try:
            for chunk in chunks:
                for raw in decoder.push(chunk):
                    exited = exited or raw.get("type") == "exit"
                    yield raw
            for raw in decoder.end():
                exited = exited or raw.get("type") == "exit"
                yield raw
        finally:
            chunks.close()
        if not exited:
            raise ProtocolError(f"GET {path}: the stream ended before the process's exit "
                                "(the sandbox closed?)")

    def wait(self, ref: ProcessRef) -> ProcessInfo:
        """Blocks until the process exited; its final info (``exit_code`` set)."""
        return to_process_info(self._t.json("POST", self._path(ref, "/wait"), timeout=None))

    def send_stdin(self, ref: ProcessRef, data: Union[str, bytes]) -> None:
        """Writes to the process's stdin (started with ``stdin=True``, or a PTY)."""
        if isinstance(data, str):
            body = {"data": data}
        else:
            body = {"data_base64": base64.b64encode(data).decode("ascii")}
        self._t.request("POST", self._path(ref, "/stdin"), json_body=body)

    def close_stdin(self, ref: ProcessRef) -> None:
        self._t.request("POST", self._path(ref, "/close_stdin"))

    def signal(self, ref: ProcessRef, signal: Union[str, int] = "SIGTERM") -> None:
        """Sends a signal (a name like "SIGINT" or a number) to the process and its group."""
        self._t.request("POST", self._path(ref, "/signal"), json_body={"signal": signal})

    def kill(self, ref: ProcessRef) -> None:
        """SIGKILL."""
        self._t.request("DELETE", self._path(ref))

    def resize(self, ref: ProcessRef, rows: int, cols: int) -> None:
        """A PTY process's new terminal size (the program gets SIGWINCH)."""
        self._t.request("POST", self._path(ref, "/resize"), json_body={"rows": rows, "cols": cols})
