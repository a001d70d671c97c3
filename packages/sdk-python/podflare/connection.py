"""HTTP transport: persistent http.client connections, reused across calls.

Each Sandbox has a Transport. It keeps idle keep-alive connections (normally one) and
opens another only while one is busy (e.g. a run_code_stream still being read). A request
that meets a connection the server closed while idle is retried once on a fresh one.
"""

from __future__ import annotations

import builtins
import http.client
import json
import os
import select
import threading
import urllib.parse
from typing import Any, Iterator, Mapping, NamedTuple

from .errors import ConnectionError, ProtocolError, TimeoutError, error_from_response

DEFAULT_HOST = "http://127.0.0.1:7070"
DEFAULT_TIMEOUT_S = 60.0
SDK_VERSION = "0.1.0"

_UNSET: Any = object()
_MAX_IDLE = 4


def _dropped(conn: http.client.HTTPConnection) -> bool:
    """An idle connection the server has closed (or sent something on) is readable."""
    sock = conn.sock
    if sock is None:
        return True
    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)


# What a reused keep-alive connection raises when the server closed it while idle.
_STALE = (http.client.RemoteDisconnected, builtins.ConnectionResetError, builtins.BrokenPipeError,
          builtins.ConnectionAbortedError)


class Response(NamedTuple):
    status: int
    headers: Mapping[str, str]
    body: bytes

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")


class Transport:
    """One configured endpoint (base URL, key, timeout) and its connections.

    ``host`` defaults to ``PODFLARE_HOSTD_URL``, else ``PODFLARE_HOST`` (the hosted SDK's
    variable), else http://127.0.0.1:7070; ``api_key`` to ``PODFLARE_API_KEY`` (no
    Authorization header when neither is set); ``timeout_s`` is how long the server may
    stay silent before :class:`podflare.TimeoutError` (default 60). ``region`` is sent as
    the X-Podflare-Region header on every request, ``traceparent`` (default
    ``PODFLARE_TRACEPARENT``) as the W3C ``traceparent`` header. ``shared`` marks the
    transport of a :class:`podflare.Client`: its sandboxes neither close nor clone it.

    Example::

        t = Transport("http://127.0.0.1:7070")
        t.json("GET", "/v1/sandboxes")
    """

    def __init__(self, host: str | None = None, api_key: str | None = None, timeout_s: float | None = None,
                 region: str | None = None, traceparent: str | None = None, *, shared: bool = False):
        # Our variable first, then the hosted SDK's: a self-hosted override beats a hosted default.
        env_host = os.environ.get("PODFLARE_HOSTD_URL", "").strip() or os.environ.get("PODFLARE_HOST", "")
        raw = (host if host is not None else env_host).strip() or DEFAULT_HOST
        url = urllib.parse.urlsplit(raw)
        if url.scheme not in ("http", "https") or not url.hostname:
            raise ValueError(f"invalid Podflare host {raw!r}: expected a URL like {DEFAULT_HOST}"
                             " (argument host, PODFLARE_HOSTD_URL or PODFLARE_HOST)")
        self._scheme = url.scheme
        self._hostname = url.hostname
        self._port = url.port
        self._base_path = url.path.rstrip("/")
        self.host = f"{url.scheme}://{url.netloc}{self._base_path}"
        self.api_key = api_key if api_key is not None else os.environ.get("PODFLARE_API_KEY", "")
        self.timeout_s = DEFAULT_TIMEOUT_S if timeout_s is None else timeout_s
        self._headers = {"User-Agent": f"podflare-python/{SDK_VERSION}"}
        if self.api_key:
            self._headers["Authorization"] = f"Bearer {self.api_key}"
        self.region = region
        if region is not None:
            self._headers["X-Podflare-Region"] = region
        if traceparent is None:
            traceparent = os.environ.get("PODFLARE_TRACEPARENT") or None
        self.traceparent = traceparent
        if self.traceparent:
            self._headers["traceparent"] = self.traceparent
        self.shared = shared
        self._idle: list[http.client.HTTPConnection] = []
        self._lock = threading.Lock()

    def clone(self) -> "Transport":
        """A Transport with the same settings and its own connections."""
        return Transport(self.host, self.api_key, self.timeout_s, self.region, self.traceparent)

    def for_child(self) -> "Transport":
        """The transport for a fork child: this one when shared (a Client's), else a clone."""
        return self if self.shared else self.clone()

    def release(self) -> None:
        """Closes this transport when its sandbox is done with it, unless a Client shares it."""
        if not self.shared:
            self.close()

    # -- connections ------------------------------------------------------------------

    def _acquire(self) -> tuple[http.client.HTTPConnection, bool]:
        with self._lock:
            while self._idle:
                conn = self._idle.pop()
                if not _dropped(conn):
                    return conn, True
                conn.close()  # the server closed it while idle: a new one, not a failed call
        if self._scheme == "https":
            import ssl

            context = ssl.create_default_context()
            return http.client.HTTPSConnection(self._hostname, self._port, timeout=self.timeout_s,
                                               context=context), False
        return http.client.HTTPConnection(self._hostname, self._port, timeout=self.timeout_s), False

    def _release(self, conn: http.client.HTTPConnection, resp: http.client.HTTPResponse) -> None:
        if resp.will_close or not resp.isclosed():
            conn.close()
            return
        with self._lock:
            if len(self._idle) < _MAX_IDLE:
                self._idle.append(conn)
                return
        conn.close()

    def close(self) -> None:
        """Closes idle connections (busy ones close when their answer is read)."""
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()

    def __del__(self) -> None:
        # A dropped Sandbox object closes its sockets, not the sandbox.
        try:
            self.close()
        except Exception:
            pass

    # -- requests ---------------------------------------------------------------------

    def open(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = _UNSET,
        body: bytes | None = None,
        content_type: str | None = None,
        accept: str | None = None,
        timeout: float | None = _UNSET,
    ) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse]:
        """Sends a request; returns the connection and a 2xx response whose body is unread.

        A non-2xx answer is read and raised as a typed error. The caller must read the
        response to its end and call ``finish`` (or ``conn.close()``).
        """
        headers = dict(self._headers)
        if json_body is not _UNSET:
            body = json.dumps(json_body, separators=(",", ":")).encode("utf-8")
            headers["Content-Type"] = "application/json"
        elif body is not None:
            headers["Content-Type"] = content_type or "application/octet-stream"
        if body is not None:
            headers["Content-Length"] = str(len(body))
        elif method not in ("GET", "HEAD", "DELETE"):
            headers["Content-Length"] = "0"
        if accept:
            headers["Accept"] = accept
        t = self.timeout_s if timeout is _UNSET else timeout
        what = f"{method} {path}"
        url = self._base_path + path
        for attempt in (0, 1):
            conn, reused = self._acquire()
            try:
                conn.timeout = t
                if conn.sock is not None:
                    conn.sock.settimeout(t)
                conn.request(method, url, body=body, headers=headers)
                resp = conn.getresponse()
            except _STALE as err:
                conn.close()
                # The server closed this idle connection as we reused it, or went away while it
                # worked on the call: only a read is safe to send again (a create or an exec sent
                # twice would be made twice, e.g. through an edge that stopped mid-call).
                if reused and attempt == 0 and method in ("GET", "HEAD"):
                    continue
                raise ConnectionError(f"{what}: connection to {self.host} broke: {err}") from err
            except builtins.TimeoutError as err:
                conn.close()
                raise TimeoutError(f"{what}: no answer from {self.host} for {t} s"
                                   " (raise timeout_s, or check the server)") from err
            except OSError as err:
                conn.close()
                raise ConnectionError(f"{what}: cannot reach {self.host}: {err}; is hostd running?"
                                      " (argument host or PODFLARE_HOSTD_URL)") from err
            except http.client.HTTPException as err:
                conn.close()
                raise ProtocolError(f"{what}: unreadable answer from {self.host}: {err!r}") from err
            if 200 <= resp.status < 300:
                return conn, resp
            data = self._read_all(conn, resp, what)
            raise error_from_response(resp.status, data, _lower(resp.headers), what)
        raise AssertionError("unreachable")

    def _read_all(self, conn: http.client.HTTPConnection, resp: http.client.HTTPResponse, what: str) -> bytes:
        try:
            data = resp.read()
        except builtins.TimeoutError as err:
            conn.close()
            raise TimeoutError(
                f"{what}: {self.host} stopped sending for {conn.timeout} s (raise timeout_s)") from err
        except (OSError, http.client.HTTPException) as err:
            conn.close()
            raise ConnectionError(
                f"{what}: the connection broke before the answer was complete: {err!r}") from err
        self._release(conn, resp)
        return data

    def request(self, method: str, path: str, **kwargs: Any) -> Response:
        """Sends a request and reads the whole answer."""
        conn, resp = self.open(method, path, **kwargs)
        data = self._read_all(conn, resp, f"{method} {path}")
        return Response(resp.status, _lower(resp.headers), data)

    def json(self, method: str, path: str, **kwargs: Any) -> Any:
        """Sends a request and parses a JSON answer; None for an empty one (204)."""
        kwargs.setdefault("accept", "application/json")
        res = self.request(method, path, **kwargs)
        if not res.body:
            return None
        try:
            return json.loads(res.body)
        except ValueError:
            raise ProtocolError(f"{method} {path} answered {res.status} with a body that is not JSON:"
                                f" {res.body[:200]!r}", status=res.status) from None

    def stream(self, method: str, path: str, **kwargs: Any) -> Iterator[bytes]:
        """Sends a request and yields body chunks as they arrive (a generator: the request
        goes out on the first ``next``). Closing the generator early drops the connection."""
        what = f"{method} {path}"
        conn, resp = self.open(method, path, **kwargs)
        done = False
        try:
            while True:
                try:
                    chunk = resp.read1(65536)
                except builtins.TimeoutError as err:
                    raise TimeoutError(f"{what}: {self.host} stopped sending for {conn.timeout} s") from err
                except (OSError, http.client.HTTPException) as err:
                    raise ConnectionError(
                        f"{what}: the connection broke before the answer was complete: {err!r}") from err
                if not chunk:
                    break
                yield chunk
            done = True
        finally:
            if done:
                self._release(conn, resp)
            else:
                conn.close()


def _lower(headers: Any) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items()}


__all__ = ["Transport", "Response", "DEFAULT_HOST", "DEFAULT_TIMEOUT_S", "SDK_VERSION"]
