"""Exec events and results, and the incremental NDJSON decoder.

Exec answers are NDJSON, one event a line, flushed as produced. The decoder splits on the
newline byte before decoding, so a multi-byte character cut across reads is safe (0x0A
never occurs inside a UTF-8 sequence).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Optional, Union

from .errors import ProtocolError
from .results import ExecError, Result, error_from_event, result_from_event


@dataclass(frozen=True)
class ExecEvent:
    """One event of an exec: ``type`` is "stdout", "stderr" (``data`` is one line, keeping
    its newline), "result" (``result`` is a rich result, ``data`` its MIME bundle), "error"
    (``error`` is a python exec's exception; these two only with ``run_code_stream(...,
    results=True)``) or "exit" (``data`` is the exit code). ``seq``
    is monotonic per call, ``ts`` is epoch milliseconds.

    Example::

        for ev in sb.run_code_stream("print(1)"):
            if ev.type == "exit":
                print("exit code", ev.data)
    """

    type: str
    data: Union[str, int, dict]
    seq: int
    ts: int
    result: Optional[Result] = None
    error: Optional[ExecError] = None

    @property
    def code(self) -> Optional[int]:
        """The exit code on an "exit" event (the hosted SDK's name for it), else None."""
        return self.data if self.type == "exit" else None  # type: ignore[return-value]


# The hosted SDK's name for an exec event (``run_code_stream(...) -> Iterator[Event]``).
Event = ExecEvent


@dataclass(frozen=True)
class ExecResult:
    """What ``run_code`` returns: each stream joined byte for byte, the exit code, and for
    python the rich results (the last expression's value, display() calls, figures) and
    the exception.

    Example::

        r = sb.run_code("print(6 * 7)")
        assert r.stdout == r.text == "42\\n" and r.exit_code == 0
    """

    stdout: str
    stderr: str
    exit_code: int
    results: list = field(default_factory=list)
    error: Optional[ExecError] = None

    @property
    def text(self) -> str:
        """The same as ``stdout``."""
        return self.stdout


class NdjsonDecoder:
    """Feed byte chunks as they arrive; get parsed values for every complete line.

    Blank lines are skipped; ``end()`` parses a last line without newline.

    Example::

        dec = NdjsonDecoder()
        dec.push(b'{"a": 1}\\n{"a"')  # [{'a': 1}]
        dec.push(b': 2}\\n')          # [{'a': 2}]
    """

    def __init__(self) -> None:
        self._pending = b""

    def push(self, chunk: bytes) -> list[Any]:
        buf = self._pending + chunk if self._pending else bytes(chunk)
        lines = buf.split(b"\n")
        self._pending = lines.pop()
        return [_parse_line(line) for line in lines if line.strip()]

    def end(self) -> list[Any]:
        rest, self._pending = self._pending, b""
        return [_parse_line(rest)] if rest.strip() else []


def _parse_line(line: bytes) -> Any:
    try:
        return json.loads(line)
    except ValueError:
        raise ProtocolError(f"exec stream sent a line that is not JSON: {line[:200]!r}") from None


def to_exec_event(value: Any) -> ExecEvent | None:
    """Checks one decoded value is an exec event; None for an event type this SDK does not
    know (a newer server may add some), so callers can skip it."""
    if not isinstance(value, dict):
        raise ProtocolError(f"exec stream sent a non-object line: {value!r}")
    kind = value.get("type")
    seq = value.get("seq", 0)
    ts = value.get("ts", 0)
    data = value.get("data")
    if kind in ("stdout", "stderr"):
        if not isinstance(data, str):
            raise ProtocolError(f"exec {kind} event without string data")
        return ExecEvent(kind, data, seq, ts)
    if kind == "exit":
        if not isinstance(data, int) or isinstance(data, bool):
            raise ProtocolError("exec exit event without an integer code")
        return ExecEvent("exit", data, seq, ts)
    if kind == "result":
        result = result_from_event(value)
        return ExecEvent("result", result.data, seq, ts, result=result)
    if kind == "error":
        error = error_from_event(value)
        return ExecEvent("error", error.value, seq, ts, error=error)
    return None
