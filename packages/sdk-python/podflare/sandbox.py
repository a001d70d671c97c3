"""The Sandbox class: one object per sandbox id, calls over a persistent connection."""

from __future__ import annotations

import json
import threading
import types
import urllib.parse
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator, Mapping, Union

from .connection import Transport
from .diff import compare_snapshots, diff_code
from .filesystem import Filesystem
from .processes import Processes
from .pty import Pty
from .errors import (
    IsADirectoryError,
    MethodNotAllowedError,
    NotADirectoryError,
    NotFoundError,
    ProtocolError,
    SandboxClosedError,
    SandboxNotFoundError,
    SandboxRuntimeError,
)
from .events import ExecEvent, ExecResult, NdjsonDecoder, to_exec_event

Data = Union[bytes, bytearray, memoryview, str]


def _q(value: str) -> str:
    return urllib.parse.quote(value, safe="")


@dataclass(frozen=True)
class FileEntry:
    """One entry of a directory listing (``type`` is "file", "dir", "symlink" or "other")."""

    name: str
    type: str
    size: int
    mode: int
    mtime_ms: int


class _ClassOrInstanceMethod:
    """``Sandbox.resume(space_id)`` on the class, ``sb.resume()`` on an instance: Podflare
    names both ``resume``, and Python needs a descriptor to tell them apart."""

    def __init__(self, on_class: Callable[..., Any], on_instance: Callable[..., Any]):
        self._on_class = on_class
        self._on_instance = on_instance
        self.__doc__ = f"On the class: {on_class.__doc__}\n\nOn an instance: {on_instance.__doc__}"

    def __get__(self, obj: Any, cls: type | None = None) -> Any:
        if obj is None:
            return types.MethodType(self._on_class, cls)
        return types.MethodType(self._on_instance, obj)


def upload_args(data: Any, path: Any) -> tuple[bytes, str]:
    """Checks ``upload`` arguments, data first and path second (Podflare's order), and
    returns them as (bytes, path). Nothing is guessed from the values: a call with the two
    swapped would otherwise write the content under a name made of the path. str data is
    encoded as UTF-8."""
    if isinstance(path, (bytes, bytearray, memoryview)) and isinstance(data, str):
        raise TypeError(f"upload(data, path) takes the data first and the path second: upload(<bytes>, {data[:60]!r})")
    if not isinstance(path, str) or not path:
        raise TypeError('upload(data, path): path must be a non-empty str, e.g. upload("hello", "/root/notes.txt")')
    if isinstance(data, str):
        return data.encode("utf-8"), path
    if isinstance(data, (bytes, bytearray, memoryview)):
        return bytes(data), path
    raise TypeError(f"upload(data, path): data must be bytes or str, got {type(data).__name__}")


class Sandbox:
    """A Podflare sandbox: a Linux box with a persistent Python REPL, bash, and files.

    Creating the object creates the sandbox. Options left as None are not sent, so the
    server's defaults (and your tier's caps) apply; ``applied`` says what you got and
    ``clamped`` which requests were lowered to a cap. ``host`` is the server's base URL
    (talked to directly, past any edge; default ``PODFLARE_HOSTD_URL``, else
    ``PODFLARE_HOST``, else http://127.0.0.1:7070), ``api_key`` defaults to
    ``PODFLARE_API_KEY``. ``region`` (e.g. "us-west") is sent to the server, which answers
    :class:`podflare.RegionUnknownError` for a region it does not serve. ``timeout_s`` is
    how long the server may stay silent before :class:`podflare.TimeoutError` (default 60).

    Example::

        from podflare import Sandbox

        with Sandbox() as sb:
            sb.run_code("x = 41")
            print(sb.run_code("x += 1; print(x)").stdout)  # "42\\n"
    """

    id: str
    template: str | None
    applied: dict[str, Any] | None
    clamped: list[str]
    warnings: list[str]

    def __init__(
        self,
        host: str | None = None,
        api_key: str | None = None,
        template: str | None = "default",
        *,
        persistent: bool | None = None,
        egress: bool | None = None,
        memory_mb: int | None = None,
        disk_mb: int | None = None,
        vcpus: int | None = None,
        idle_timeout_s: int | None = None,
        max_lifetime_s: int | None = None,
        env: Mapping[str, str] | None = None,
        metadata: Mapping[str, str] | None = None,
        network: Mapping[str, Any] | None = None,
        timeout_s: float | None = None,
        region: str | None = None,
    ):
        transport = Transport(host, api_key, timeout_s, region)
        fields = {
            "template": template,
            "persistent": persistent,
            "egress": egress,
            "memory_mb": memory_mb,
            "disk_mb": disk_mb,
            "vcpus": vcpus,
            "idle_timeout_s": idle_timeout_s,
            "max_lifetime_s": max_lifetime_s,
            "env": dict(env) if env is not None else None,
            "metadata": dict(metadata) if metadata is not None else None,
            "network": dict(network) if network is not None else None,
            "region": region,
        }
        body = {k: v for k, v in fields.items() if v is not None}
        answer = transport.json("POST", "/v1/sandboxes", json_body=body)
        self._setup_from_answer(transport, answer, "POST /v1/sandboxes", template)

    # -- construction without a create call -------------------------------------------

    def _setup(self, transport: Transport, id: str, template: str | None = None, applied: Any = None,
               clamped: Any = None, warnings: Any = None) -> None:
        self._transport = transport
        self.id = id
        self.template = template
        self.applied = dict(applied) if isinstance(applied, dict) else None
        self.clamped = list(clamped) if isinstance(clamped, list) else []
        self.warnings = list(warnings) if isinstance(warnings, list) else []
        self._state = "open"
        self._state_detail = ""
        self._close_lock = threading.Lock()

    def _setup_from_answer(self, transport: Transport, answer: Any, what: str, template: str | None) -> None:
        if not isinstance(answer, dict) or not isinstance(answer.get("id"), str):
            raise ProtocolError(f"{what} answered without a sandbox id")
        self._setup(transport, answer["id"], answer.get("template", template), answer.get("applied"),
                    answer.get("clamped"), answer.get("warnings"))

    @classmethod
    def _attach(cls, transport: Transport, id: str, **init: Any) -> "Sandbox":
        sb = cls.__new__(cls)
        sb._setup(transport, id, **init)
        return sb

    @classmethod
    def connect(cls, id: str, host: str | None = None, api_key: str | None = None, *, timeout_s: float | None = None,
                region: str | None = None) -> "Sandbox":
        """Attaches to an existing sandbox by id. Checks it exists when the server can say
        (raises :class:`SandboxNotFoundError` if not).

        Example::

            sb = Sandbox.connect("sbx_0123456789abcdef0123456789abcdef")
            sb.run_code("print(x)")
        """
        transport = Transport(host, api_key, timeout_s, region)
        try:
            info = transport.json("GET", f"/v1/sandboxes/{_q(id)}")
        except (NotFoundError, MethodNotAllowedError) as err:
            # A server without GET /v1/sandboxes/:id: attach without checking.
            if isinstance(err, SandboxNotFoundError) or err.code not in ("not_found", "method_not_allowed"):
                raise
            return cls._attach(transport, id)
        info = info if isinstance(info, dict) else {}
        return cls._attach(transport, id, template=info.get("template"), applied=info.get("applied"))

    def _resume_space(cls, space_id: str, host: str | None = None, api_key: str | None = None, *,
                      timeout_s: float | None = None, region: str | None = None) -> "Sandbox":
        """``Sandbox.resume(space_id)`` resumes a persistent Space (made by ``freeze()`` or by
        the idle reaper) as a new sandbox. A Space resumes once. With ``region``, the server
        must serve that region (else :class:`podflare.RegionUnknownError`).

        Example::

            space_id = sb.freeze()
            again = Sandbox.resume(space_id, region="us-west")
            again.run_code("print(x)")
        """
        transport = Transport(host, api_key, timeout_s, region)
        path = f"/v1/spaces/{_q(space_id)}/resume"
        body = {"json_body": {"region": region}} if region is not None else {}
        answer = transport.json("POST", path, **body)
        sb = cls.__new__(cls)
        sb._setup_from_answer(transport, answer, f"POST {path}", None)
        return sb

    def _resume_paused(self) -> None:
        """``sb.resume()`` resumes this paused sandbox (in memory).

        Example::

            sb.pause()
            sb.resume()
        """
        self._check_open()
        self._transport.request("POST", self._path("/resume"))

    resume = _ClassOrInstanceMethod(_resume_space, _resume_paused)

    @classmethod
    def list_sandboxes(cls, host: str | None = None, api_key: str | None = None, *, timeout_s: float | None = None) -> list[dict[str, Any]]:
        """Lists the sandboxes this key can see (wire shapes: id, state, template, applied, ...).

        Example::

            for s in Sandbox.list_sandboxes():
                print(s["id"], s["state"])
        """
        answer = Transport(host, api_key, timeout_s).json("GET", "/v1/sandboxes")
        return list(answer.get("sandboxes", [])) if isinstance(answer, dict) else []

    # -- plumbing -----------------------------------------------------------------------

    @property
    def host(self) -> str:
        """Base URL of the API this sandbox is reached through."""
        return self._transport.host

    @property
    def is_open(self) -> bool:
        """False once ``close()``, ``merge_into()`` (on the winner) or ``freeze()`` has run."""
        return self._state == "open"

    def _check_open(self) -> None:
        if self._state == "open":
            return
        if self._state == "merged":
            raise SandboxClosedError(f"sandbox {self.id} was merged into {self._state_detail}; use that sandbox's object")
        if self._state == "frozen":
            raise SandboxClosedError(
                f"sandbox {self.id} was frozen into Space {self._state_detail}; continue with Sandbox.resume({self._state_detail!r})"
            )
        raise SandboxClosedError(f"sandbox {self.id} is closed; create a new one with Sandbox()")

    @property
    def processes(self) -> "Processes":
        """Background processes: start, list, connect, stdin, signal, wait (processes.py)."""
        return Processes(self._transport, self.id)

    @property
    def fs(self) -> "Filesystem":
        """The filesystem: list, stat, mkdir, move, remove, watch (filesystem.py)."""
        return Filesystem(self._transport, self.id)

    @property
    def pty(self) -> "Pty":
        """Interactive terminals, driven over REST (pty.py)."""
        return Pty(Processes(self._transport, self.id))

    def _path(self, suffix: str) -> str:
        return f"/v1/sandboxes/{_q(self.id)}{suffix}"

    def _file_path(self, path: str) -> str:
        if not isinstance(path, str) or not path:
            raise TypeError('a file path must be a non-empty str, e.g. "/root/data.csv"')
        return f"{self._path('/files')}?path={_q(path)}"

    def __enter__(self) -> "Sandbox":
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        try:
            self.close()
        except Exception:
            if exc_type is None:
                raise  # do not hide the error that is already propagating

    def __repr__(self) -> str:
        return f"<Sandbox {self.id} {self._state}>"

    # -- the surface ------------------------------------------------------------------

    def info(self) -> dict[str, Any]:
        """Current state and limits of the sandbox, from the server (wire shape).

        Example::

            print(sb.info()["state"])
        """
        self._check_open()
        answer = self._transport.json("GET", self._path(""))
        if not isinstance(answer, dict):
            raise ProtocolError(f"GET {self._path('')} answered an empty body")
        if isinstance(answer.get("applied"), dict):
            self.applied = dict(answer["applied"])
        return answer

    def run_code_stream(
        self,
        code: str,
        language: str = "python",
        *,
        timeout_ms: int | None = None,
        env: Mapping[str, str] | None = None,
        cwd: str | None = None,
    ) -> Iterator[ExecEvent]:
        """Runs code and yields its events as they are produced: "stdout"/"stderr" lines
        (each keeping its newline) and a last "exit" event. Stopping early drops the
        connection, and hostd then interrupts the code as on a timeout.

        Example::

            for ev in sb.run_code_stream("for i in range(3): print(i)"):
                if ev.type == "stdout":
                    print(ev.data, end="")
        """
        self._check_open()
        body: dict[str, Any] = {"code": code, "language": language}
        if timeout_ms is not None:
            body["timeout_ms"] = timeout_ms
        if env is not None:
            body["env"] = dict(env)
        if cwd is not None:
            body["cwd"] = cwd
        # The server is silent while code runs; only an exec with a deadline gets a client one.
        timeout = timeout_ms / 1000 + self._transport.timeout_s if timeout_ms is not None else None
        return self._events(body, timeout)

    def _events(self, body: dict[str, Any], timeout: float | None) -> Iterator[ExecEvent]:
        decoder = NdjsonDecoder()
        exited = False
        chunks = self._transport.stream("POST", self._path("/exec"), json_body=body, timeout=timeout, accept="application/x-ndjson")
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
            raise ProtocolError(f"exec in {self.id}: the stream ended without an exit event")

    def run_code(
        self,
        code: str,
        language: str = "python",
        *,
        timeout_ms: int | None = None,
        env: Mapping[str, str] | None = None,
        cwd: str | None = None,
    ) -> ExecResult:
        """Runs code and waits for it to finish.

        A Python exception is not raised here: it gives a non-zero ``exit_code`` and its
        traceback on ``stderr``, and the REPL stays usable. With ``timeout_ms`` the code is
        interrupted after that long and ``exit_code`` is 124 (globals are kept).

        Example::

            r = sb.run_code("import sys; print('hi'); sys.exit(3)")
            assert (r.stdout, r.exit_code) == ("hi\\n", 3)
            print(sb.run_code("uname -s", "bash").text)
        """
        stdout: list[str] = []
        stderr: list[str] = []
        exit_code: int | None = None
        for ev in self.run_code_stream(code, language, timeout_ms=timeout_ms, env=env, cwd=cwd):
            if ev.type == "stdout":
                stdout.append(ev.data)  # type: ignore[arg-type]
            elif ev.type == "stderr":
                stderr.append(ev.data)  # type: ignore[arg-type]
            else:
                exit_code = ev.data  # type: ignore[assignment]
        assert exit_code is not None
        return ExecResult("".join(stdout), "".join(stderr), exit_code)

    def upload(self, data: Any, path: Any) -> None:
        """Writes ``data`` to the file ``path`` in the sandbox, creating parent directories
        (a relative path is taken from /root). str data is written as UTF-8. The order is
        always Podflare's ``(data, path)``: two strs are never reordered by their look.

        Example::

            sb.upload(b"\\x00\\x01", "/root/data.bin")
            sb.upload("hello\\n", "/root/notes.txt")
        """
        self._check_open()
        body, target = upload_args(data, path)
        self._transport.request("PUT", self._file_path(target), body=body, content_type="application/octet-stream")

    def download(self, path: str) -> bytes:
        """Reads a file from the sandbox. A directory raises :class:`IsADirectoryError`:
        use ``list(path)``.

        Example::

            data = sb.download("/root/data.bin")
        """
        self._check_open()
        res = self._transport.request("GET", self._file_path(path))
        if res.content_type.lower().startswith("application/json"):
            raise IsADirectoryError(f"{path} is a directory in sandbox {self.id}; use list({path!r}) to see its entries")
        return res.body

    def list(self, path: str) -> list[FileEntry]:
        """Lists a directory in the sandbox. A file raises :class:`NotADirectoryError`:
        use ``download(path)``.

        Example::

            for e in sb.list("/root"):
                print(e.type, e.name, e.size)
        """
        self._check_open()
        res = self._transport.request("GET", self._file_path(path), accept="application/json")
        if not res.content_type.lower().startswith("application/json"):
            raise NotADirectoryError(f"{path} is a file in sandbox {self.id}; use download({path!r}) to read it")
        try:
            listing = json.loads(res.body)
            entries = listing["entries"]
            return [FileEntry(e["name"], e["type"], e["size"], e["mode"], e["mtime_ms"]) for e in entries]
        except (ValueError, KeyError, TypeError) as err:
            raise ProtocolError(f"listing of {path} is not a valid directory listing: {err!r}") from None

    def remove(self, path: str) -> None:
        """Removes a file, symlink or directory tree in the sandbox.

        Example::

            sb.remove("/root/data.bin")
        """
        self._check_open()
        self._transport.request("DELETE", self._file_path(path))

    def fork(self, n: int = 1) -> list["Sandbox"]:
        """Starts ``n`` children from this sandbox's exact state: REPL memory and files.
        Each child is independent: its writes never show in the parent or a sibling.

        Example::

            a, b = sb.fork(n=2)
            a.run_code("x = 1"); b.run_code("x = 2")
        """
        self._check_open()
        answer = self._transport.json("POST", self._path("/fork"), json_body={"n": n})
        if not isinstance(answer, dict) or not isinstance(answer.get("children"), list):
            raise ProtocolError(f"fork of {self.id} answered without children")
        return [
            type(self)._attach(self._transport.clone(), cid, template=self.template, applied=self.applied)
            for cid in answer["children"]
        ]

    def merge_into(self, winner: "Sandbox | str") -> None:
        """Makes this sandbox become ``winner`` (one of its children): this id now names the
        winner's REPL and files, and the winner's own id is retired. Afterwards the winner
        object is closed (its ``close()`` does nothing); keep using this one.

        Example::

            kids = sb.fork(n=3)
            sb.merge_into(kids[1])
        """
        self._check_open()
        winner_id = winner if isinstance(winner, str) else winner.id
        self._transport.request("POST", self._path(f"/merge_into/{_q(winner_id)}"))
        if isinstance(winner, Sandbox):
            winner._state, winner._state_detail = "merged", self.id
            winner._transport.close()

    def diff(self, other: "Sandbox", paths: Iterable[str] = ("/root", "/tmp")) -> dict[str, list[str]]:
        """Compares files between this sandbox and ``other``, client-side: "added" exist
        only in ``other``, "removed" only here, "modified" differ in content (files over
        1 MB: in size or mtime). Runs a small Python helper in both sandboxes; the REPL's
        variables are not touched.

        Example::

            a, b = sb.fork(n=2)
            b.run_code("open('/root/new.txt', 'w').write('hi')")
            a.diff(b)  # {'added': ['/root/new.txt'], 'removed': [], 'modified': []}
        """
        code = diff_code(paths)
        theirs: dict[str, Any] = {}

        def snap_other() -> None:
            try:
                theirs["value"] = other._snapshot(code)
            except BaseException as err:  # re-raised below, in the caller's thread
                theirs["error"] = err

        worker = threading.Thread(target=snap_other, daemon=True)
        worker.start()
        try:
            mine = self._snapshot(code)
        finally:
            worker.join()
        if "error" in theirs:
            raise theirs["error"]
        return compare_snapshots(mine, theirs["value"])

    def _snapshot(self, code: str) -> dict[str, Any]:
        r = self.run_code(code, "python")
        lines = r.stdout.rstrip("\n").split("\n")
        if r.exit_code == 0:
            try:
                snap = json.loads(lines[-1])
                if isinstance(snap, dict):
                    return snap
            except ValueError:
                pass
        raise SandboxRuntimeError(f"diff helper failed in {self.id} (exit {r.exit_code}): {(r.stderr or lines[-1])[-500:]}")

    def pause(self) -> None:
        """Pauses the sandbox in memory (its processes stop; nothing is lost). Milliseconds.

        Example::

            sb.pause()
            sb.resume()
        """
        self._check_open()
        self._transport.request("POST", self._path("/pause"))

    def kill_processes(self) -> int:
        """Kills every process of the sandbox except its REPL, whose variables stay: the way out
        of a fork bomb or a runaway server (it works even when no process can start inside).
        Returns how many processes it killed.

        Example::

            sb.run_code("(setsid bash -c ':(){ :|:& };:' &)", "bash")
            killed = sb.kill_processes()
        """
        self._check_open()
        answer = self._transport.json("POST", self._path("/kill_processes"))
        return int(answer["killed"])

    def restart_repl(self) -> None:
        """Restarts the REPL: a fresh interpreter with an empty ``__main__``. Files, the sandbox
        and its other processes stay.

        Example::

            sb.restart_repl()
            sb.run_code("print('x' in globals())")  # False
        """
        self._check_open()
        self._transport.request("POST", self._path("/restart_repl"))

    def freeze(self) -> str:
        """Freezes the sandbox to disk as a persistent Space and returns the Space id. This
        object is closed afterwards; continue with ``Sandbox.resume(space_id)``.

        Example::

            sb = Sandbox(persistent=True)
            sb.run_code("x = 42")
            space_id = sb.freeze()
            later = Sandbox.resume(space_id)
        """
        self._check_open()
        answer = self._transport.json("POST", self._path("/freeze"))
        if not isinstance(answer, dict) or not isinstance(answer.get("space_id"), str):
            raise ProtocolError(f"freeze of {self.id} answered without space_id")
        self._state, self._state_detail = "frozen", answer["space_id"]
        self._transport.close()
        return answer["space_id"]

    def set_timeout(self, idle_timeout_s: int) -> None:
        """Changes how long the sandbox may stay idle (no API call) before it is closed, or
        frozen if persistent. The server may clamp it to your tier; ``applied`` is updated
        when the server says what it applied.

        Example::

            sb.set_timeout(3600)
        """
        self._check_open()
        answer = self._transport.json("POST", self._path("/timeout"), json_body={"idle_timeout_s": idle_timeout_s})
        if isinstance(answer, dict):
            if isinstance(answer.get("applied"), dict):
                self.applied = dict(answer["applied"])
            elif self.applied is not None and isinstance(answer.get("idle_timeout_s"), int):
                self.applied["idle_timeout_s"] = answer["idle_timeout_s"]

    _UNSET: Any = object()

    def set_network(self, *, allow_out: Any = _UNSET, deny_out: Any = _UNSET,
                    egress: bool | None = None) -> dict[str, Any] | None:
        """Changes the egress policy (IPv4 CIDRs or domain names; ``deny_out`` wins) and,
        with ``egress``, turns the network on or off. Applies to the next connection.
        Returns the sandbox's network as the server reports it.

        Example::

            sb.set_network(allow_out=["pypi.org", "files.pythonhosted.org"])
        """
        self._check_open()
        body: dict[str, Any] = {}
        if allow_out is not Sandbox._UNSET:
            body["allow_out"] = list(allow_out) if allow_out is not None else None
        if deny_out is not Sandbox._UNSET:
            body["deny_out"] = list(deny_out) if deny_out is not None else None
        if egress is not None:
            body["egress"] = egress
        answer = self._transport.json("PUT", self._path("/network"), json_body=body)
        if not isinstance(answer, dict):
            return None
        if isinstance(answer.get("applied"), dict):
            self.applied = dict(answer["applied"])
        net = answer.get("network")
        return dict(net) if isinstance(net, dict) else None

    def url(self, port: int) -> str:
        """URL that proxies HTTP to ``port`` inside the sandbox.

        Example::

            sb.run_code("python3 -m http.server 8000 &", "bash")
            print(sb.url(8000))
        """
        return f"{self._transport.host}/v1/sandboxes/{self.id}/ports/{port}/"

    def close(self) -> None:
        """Destroys the sandbox. Safe to call twice, and a sandbox the server already
        removed (reaped, merged away) counts as closed. Later calls on this object raise
        :class:`SandboxClosedError`.

        Example::

            sb = Sandbox()
            try:
                sb.run_code("print(1)")
            finally:
                sb.close()
        """
        with self._close_lock:
            if self._state != "open":
                return
            try:
                self._transport.request("DELETE", self._path(""))
            except SandboxNotFoundError:
                pass
            self._state = "closed"
            self._transport.close()
