"""The Sandbox class: one object per sandbox id, calls over a persistent connection.

Over 400 lines because it is the public class: each method's docstring and example sit on its
signature; the protocol work is in the modules named below.

Its methods by job live beside it: running code in exec_stream.ExecMethods, files in
files.FileMethods (both on base.SandboxBase: transport, id, open check); the rest delegate
to settings, spaces and account."""

from __future__ import annotations

from typing import Any, Iterable, Mapping, Union

from . import account, settings, spaces
from .client import Client, transport_for
from .diff import diff_sandboxes
from .dual_method import ClassOrInstanceMethod
from .errors import MethodNotAllowedError, NotFoundError, ProtocolError, SandboxNotFoundError
from .contexts import ContextMethods
from .exec_stream import ExecMethods
from .filesystem import Filesystem
from .processes import Processes
from .pty import Pty
# FileEntry and upload_args stay importable from here, as before the split.
from .files import FileEntry, FileMethods, upload_args  # noqa: F401
from .paths import q as _q

Data = Union[bytes, bytearray, memoryview, str]


class Sandbox(ExecMethods, FileMethods, ContextMethods):
    """A Podflare sandbox: a Linux box with a persistent Python REPL, bash, and files.

    Creating the object creates the sandbox. Options left as None are not sent, so the
    server's defaults (and your tier's caps) apply; ``applied`` says what you got and
    ``clamped`` which requests were lowered to a cap. ``host`` is the server's base URL: an
    edge (``podflare edge``) or one hostd, talked to directly (an origin's URL bypasses any
    edge; default ``PODFLARE_HOSTD_URL``, else ``PODFLARE_HOST``, else
    http://127.0.0.1:7070), ``api_key`` defaults to ``PODFLARE_API_KEY``. ``region`` (e.g.
    "us-west") is sent to the server: an edge creates there, a hostd answers
    :class:`podflare.RegionUnknownError` for a region it does not serve; a call for a
    sandbox whose region is down raises :class:`podflare.RegionUnavailableError`. ``timeout_s`` is
    how long the server may stay silent before :class:`podflare.TimeoutError` (default 60).
    ``client`` shares one :class:`podflare.Client` (its settings and connections) between
    sandboxes; ``traceparent`` is sent as the W3C header of that name.

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
        client: Client | None = None,
        traceparent: str | None = None,
        idle_timeout_seconds: int | None = None,
    ):
        # The hosted docs' examples spell it idle_timeout_seconds.
        if idle_timeout_seconds is not None:
            if idle_timeout_s is not None and idle_timeout_s != idle_timeout_seconds:
                raise TypeError("idle_timeout_s and idle_timeout_seconds are the same option; give one")
            idle_timeout_s = idle_timeout_seconds
        transport = transport_for(client, host, api_key, timeout_s, region, traceparent)
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
            "region": transport.region,
        }
        body = {k: v for k, v in fields.items() if v is not None}
        answer = transport.json("POST", "/v1/sandboxes", json_body=body)
        self._setup_from_answer(transport, answer, "POST /v1/sandboxes", template)

    @classmethod
    def connect(cls, id: str, host: str | None = None, api_key: str | None = None, *,
                timeout_s: float | None = None, region: str | None = None,
                client: Client | None = None) -> "Sandbox":
        """Attaches to an existing sandbox by id. Checks it exists when the server can say
        (raises :class:`SandboxNotFoundError` if not).

        Example::

            sb = Sandbox.connect("sbx_0123456789abcdef0123456789abcdef")
            sb.run_code("print(x)")
        """
        transport = transport_for(client, host, api_key, timeout_s, region)
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
                      timeout_s: float | None = None, region: str | None = None,
                      client: Client | None = None) -> "Sandbox":
        """``Sandbox.resume(space_id)`` resumes a persistent Space (made by ``freeze()`` or by
        the idle reaper) as a new sandbox. A Space resumes once. With ``region``, the server
        must serve that region (else :class:`podflare.RegionUnknownError`).

        Example::

            space_id = sb.freeze()
            again = Sandbox.resume(space_id, region="us-west")
            again.run_code("print(x)")
        """
        transport = transport_for(client, host, api_key, timeout_s, region)
        path = f"/v1/spaces/{_q(space_id)}/resume"
        body = {"json_body": {"region": transport.region}} if transport.region is not None else {}
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

    resume = ClassOrInstanceMethod(_resume_space, _resume_paused)

    @classmethod
    def list_sandboxes(cls, host: str | None = None, api_key: str | None = None, *,
                       timeout_s: float | None = None, client: Client | None = None) -> list[dict[str, Any]]:
        """Lists the sandboxes this key can see (wire shapes: id, state, template, applied, ...).

        Example::

            for s in Sandbox.list_sandboxes():
                print(s["id"], s["state"])
        """
        return account.list_sandboxes(transport_for(client, host, api_key, timeout_s, None))

    @classmethod
    def usage(cls, host: str | None = None, api_key: str | None = None, *,
              timeout_s: float | None = None, client: Client | None = None) -> dict[str, Any]:
        """The calling key's usage (wire shape: owner, sandboxes_created, sandbox_seconds,
        gb_seconds, execs, forks), running sandboxes counted up to now.

        Example::

            u = Sandbox.usage()
            print(u["sandbox_seconds"], u["gb_seconds"], u["execs"])
        """
        return account.usage(transport_for(client, host, api_key, timeout_s, None))

    # -- processes, PTY, filesystem (processes.py, pty.py, filesystem.py) ---------------

    @property
    def processes(self) -> Processes:
        """Background processes: start, list, connect, stdin, signal, wait."""
        return Processes(self._transport, self.id)

    @property
    def fs(self) -> Filesystem:
        """The filesystem: list, stat, mkdir, move, remove, watch."""
        return Filesystem(self._transport, self.id)

    @property
    def pty(self) -> Pty:
        """Interactive terminals, driven over REST."""
        return Pty(Processes(self._transport, self.id))

    # -- plumbing -----------------------------------------------------------------------

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

    def metrics(self) -> dict[str, Any]:
        """What the sandbox uses now, read by hostd from its cgroup and root filesystem (wire
        shape: cpu_usec, memory_bytes, memory_limit_bytes, disk_bytes, disk_limit_bytes, pids, ts).

        Example::

            m = sb.metrics()
            print(m["memory_bytes"] / 2**20, "MiB of", m["memory_limit_bytes"] / 2**20)
        """
        self._check_open()
        answer = self._transport.json("GET", self._path("/metrics"))
        if not isinstance(answer, dict):
            raise ProtocolError(f"GET {self._path('/metrics')} answered an empty body")
        return answer

    def fork(self, n: int = 1) -> list["Sandbox"]:
        """Starts ``n`` children from this sandbox's exact state: REPL memory and files.
        Each child is independent: its writes never show in the parent or a sibling.

        Example::

            a, b = sb.fork(n=2)
            a.run_code("x = 1"); b.run_code("x = 2")
        """
        self._check_open()
        return [
            type(self)._attach(self._transport.for_child(), cid, template=self.template, applied=self.applied)
            for cid in spaces.fork_children(self._transport, self.id, n)
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
        spaces.merge_into(self._transport, self.id, winner_id)
        if isinstance(winner, Sandbox):
            winner._state, winner._state_detail = "merged", self.id
            winner._transport.release()

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
        return diff_sandboxes(self, other, paths)

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
        """Restarts the REPL: a fresh interpreter with an empty ``__main__``; files and the sandbox
        stay, processes started from it (bash ``&`` jobs, subprocesses, the processes API's) end.

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
        space_id = spaces.freeze_to_space(self._transport, self.id)
        self._state, self._state_detail = "frozen", space_id
        self._transport.release()
        return space_id

    def set_timeout(self, idle_timeout_s: int) -> None:
        """Changes how long the sandbox may stay idle (no API call) before it is closed, or
        frozen if persistent. The server may clamp it to your tier; ``applied`` is updated
        when the server says what it applied.

        Example::

            sb.set_timeout(3600)
        """
        self._check_open()
        self.applied = settings.change_timeout(self._transport, self.id, idle_timeout_s, self.applied)

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
        body = settings.network_body(allow_out, deny_out, egress, unset=Sandbox._UNSET)
        applied, network = settings.change_network(self._transport, self.id, body)
        if applied is not None:
            self.applied = applied
        return network

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
            self._transport.release()
