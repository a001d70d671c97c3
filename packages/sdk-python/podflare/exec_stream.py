"""Exec over NDJSON: the request body, the event stream, and a whole result from it; and the
Sandbox methods that run code (ExecMethods)."""

from __future__ import annotations

from typing import Any, Callable, Iterator, Mapping

from . import contexts as _contexts
from .base import SandboxBase
from .contexts import Context
from .connection import Transport
from .errors import ProtocolError
from .events import ExecEvent, ExecResult, NdjsonDecoder, to_exec_event
from .paths import sandbox_path
from .results import ExecError, Result


def exec_body(code: str, language: str, timeout_ms: int | None, env: Mapping[str, str] | None,
              cwd: str | None, context: Context | str | None = None, results: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "language": language}
    if results:
        body["results"] = True
    if timeout_ms is not None:
        body["timeout_ms"] = timeout_ms
    if env is not None:
        body["env"] = dict(env)
    if cwd is not None:
        body["cwd"] = cwd
    if context is not None:
        body["context_id"] = _contexts.context_id(context)
    return body


class ExecStream(Iterator[ExecEvent]):
    """The events of one exec as they come. Leaving its ``with`` block or calling ``close()``
    drops the connection, and hostd interrupts the code as on a timeout. A bare ``break`` does
    so only once the stream is no longer referenced: ``stream = sb.run_code_stream(...)`` kept
    it open, holding the sandbox until the code's own timeout."""

    def __init__(self, gen: Iterator[ExecEvent]) -> None:
        self._gen = gen

    def __iter__(self) -> "ExecStream":
        return self

    def __next__(self) -> ExecEvent:
        return next(self._gen)

    def close(self) -> None:
        self._gen.close()  # type: ignore[attr-defined]

    def __enter__(self) -> "ExecStream":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def events(transport: Transport, sandbox_id: str, body: dict[str, Any]) -> Iterator[ExecEvent]:
    """Yields the events of one exec; stopping early drops the connection."""
    timeout_ms = body.get("timeout_ms")
    # The server is silent while code runs; only an exec with a deadline gets a client one.
    timeout = timeout_ms / 1000 + transport.timeout_s if timeout_ms is not None else None
    decoder = NdjsonDecoder()
    exited = False
    chunks = transport.stream("POST", sandbox_path(sandbox_id, "/exec"), json_body=body, timeout=timeout,
                              accept="application/x-ndjson")
    try:
        for chunk in chunks:
            for value in decoder.push(chunk):
                ev = to_exec_event(value)
                if ev is not None:
                    exited = exited or ev.type == "exit"
                    yield ev
        for value in decoder.end():
            ev = to_exec_event(value)
            if ev is not None:
                exited = exited or ev.type == "exit"
                yield ev
    finally:
        chunks.close()
    if not exited:
        raise ProtocolError(f"exec in {sandbox_id}: the stream ended without an exit event")


def collect(stream: Iterator[ExecEvent], on_result: Callable[[Result], None] | None = None,
            on_error: Callable[[ExecError], None] | None = None) -> ExecResult:
    """Joins a whole exec's output, byte for byte, takes its exit code, and keeps its rich
    results and exception (each also handed to ``on_result``/``on_error`` as it comes)."""
    stdout: list[str] = []
    stderr: list[str] = []
    exit_code: int | None = None
    results: list[Result] = []
    error: ExecError | None = None
    for ev in stream:
        if ev.type == "stdout":
            stdout.append(ev.data)  # type: ignore[arg-type]
        elif ev.type == "stderr":
            stderr.append(ev.data)  # type: ignore[arg-type]
        elif ev.result is not None:
            results.append(ev.result)
            if on_result is not None:
                on_result(ev.result)
        elif ev.error is not None:
            error = ev.error
            if on_error is not None:
                on_error(ev.error)
        else:
            exit_code = ev.data  # type: ignore[assignment]
    assert exit_code is not None
    return ExecResult("".join(stdout), "".join(stderr), exit_code, results, error)


class ExecMethods(SandboxBase):
    def run_code_stream(
        self,
        code: str,
        language: str = "python",
        *,
        timeout_ms: int | None = None,
        env: Mapping[str, str] | None = None,
        cwd: str | None = None,
        context: Context | str | None = None,
        results: bool = False,
    ) -> ExecStream:
        """Runs code and yields its events as they are produced: "stdout"/"stderr" lines
        (each keeping its newline) and a last "exit" event, as the hosted API streams them;
        with ``results=True`` also python's "result" and "error" events (docs/api.md, "Rich
        results"). Stopping early (leaving a ``with`` block, ``close()``) drops the
        connection, and hostd then interrupts the code as on a timeout.

        Example::

            with sb.run_code_stream("for i in range(3): print(i)") as stream:
                for ev in stream:
                    if ev.type == "stdout":
                        print(ev.data, end="")
        """
        self._check_open()
        body = exec_body(code, language, timeout_ms, env, cwd, context, results)
        return ExecStream(events(self._transport, self.id, body))

    def run_code(
        self,
        code: str,
        language: str = "python",
        *,
        timeout_ms: int | None = None,
        env: Mapping[str, str] | None = None,
        cwd: str | None = None,
        context: Context | str | None = None,
        on_result: Callable[[Result], None] | None = None,
        on_error: Callable[[ExecError], None] | None = None,
    ) -> ExecResult:
        """Runs code and waits for it to finish.

        A Python exception is not raised here: it gives a non-zero ``exit_code`` and its
        traceback on ``stderr`` (and as data in ``error``), and the REPL stays usable. With
        ``timeout_ms`` the code is interrupted after that long and ``exit_code`` is 124
        (globals are kept). ``results`` holds the rich results (the last expression's value,
        display() calls, matplotlib figures); ``on_result``/``on_error`` see them as they come.

        Example::

            r = sb.run_code("import sys; print('hi'); sys.exit(3)")
            assert (r.stdout, r.exit_code) == ("hi\\n", 3)
            print(sb.run_code("uname -s", "bash").text)
        """
        stream = self.run_code_stream(code, language, timeout_ms=timeout_ms, env=env, cwd=cwd,
                                      context=context, results=True)
        return collect(stream, on_result, on_error)
