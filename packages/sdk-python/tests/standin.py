"""A tiny HTTP/1.1 server for the SDK's unit tests: it plays hostd for pure protocol logic
(streaming, errors, headers, keep-alive). Not part of the package."""

from __future__ import annotations

import itertools
import socket
import json
import threading
import urllib.parse
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable

SBX = "sbx_" + "a" * 32


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, str]
    raw_path: str
    headers: dict[str, str]
    body: bytes
    connection: int
    index: int  # how many requests this connection carried before this one

    def json(self) -> Any:
        return json.loads(self.body)


Handler = Callable[[Seen, BaseHTTPRequestHandler], None]


def create_answer(id: str = SBX) -> dict[str, Any]:
    return {
        "id": id,
        "state": "ready",
        "template": "default",
        "applied": {"memory_mb": 1024, "disk_mb": 4096, "vcpus": 2, "idle_timeout_s": 300,
                    "max_lifetime_s": 1800, "egress": True, "persistent": False},
        "clamped": [],
        "warnings": [],
    }


def send_json(h: BaseHTTPRequestHandler, status: int, body: Any,
              headers: dict[str, str] | None = None) -> None:
    data = json.dumps(body).encode()
    h.send_response(status)
    h.send_header("Content-Type", "application/json")
    h.send_header("Content-Length", str(len(data)))
    for k, v in (headers or {}).items():
        h.send_header(k, v)
    h.end_headers()
    h.wfile.write(data)


def send_empty(h: BaseHTTPRequestHandler, status: int = 204) -> None:
    h.send_response(status)
    h.send_header("Content-Length", "0")
    h.end_headers()


def start_chunked(h: BaseHTTPRequestHandler, content_type: str = "application/x-ndjson") -> None:
    h.send_response(200)
    h.send_header("Content-Type", content_type)
    h.send_header("Transfer-Encoding", "chunked")
    h.end_headers()
    h.wfile.flush()


def chunk(h: BaseHTTPRequestHandler, data: bytes) -> None:
    h.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
    h.wfile.flush()


def end_chunks(h: BaseHTTPRequestHandler) -> None:
    h.wfile.write(b"0\r\n\r\n")
    h.wfile.flush()


def send_ndjson(h: BaseHTTPRequestHandler, events: list[Any]) -> None:
    start_chunked(h)
    chunk(h, "".join(json.dumps(e) + "\n" for e in events).encode())
    end_chunks(h)


class StandIn:
    """Start with ``StandIn(handler)``; ``url``, ``requests``, ``connections``; ``close()``."""

    def __init__(self, handler: Handler | None = None):
        self.handler: Handler = handler or (
            lambda req, h: send_json(h, 404, {"error": f"no route for {req.method} {req.path}",
                                              "code": "not_found"}))
        self.requests: list[Seen] = []
        self._ids = itertools.count(1)
        self.connections = 0
        outer = self

        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                # Like Node's http server: no Nagle, so small writes are not held for an ACK.
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                self.conn_id = next(outer._ids)
                self.count = 0
                outer.connections += 1

            def log_message(self, *args: Any) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                url = urllib.parse.urlsplit(self.path)
                seen = Seen(
                    method=self.command,
                    path=url.path,
                    query=dict(urllib.parse.parse_qsl(url.query)),
                    raw_path=self.path,
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=body,
                    connection=self.conn_id,
                    index=self.count,
                )
                self.count += 1
                outer.requests.append(seen)
                try:
                    outer.handler(seen, self)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True

            do_GET = do_POST = do_PUT = do_DELETE = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02},
                                        daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def basic_handler(events: list[Any] | None = None) -> Handler:
    """Creates sandboxes, answers exec with ``events``, deletes; 404 not_found otherwise."""
    evs = events if events is not None else [
        {"type": "stdout", "data": "hi\n", "seq": 0, "ts": 1},
        {"type": "exit", "data": 0, "seq": 1, "ts": 2},
    ]

    def handle(req: Seen, h: BaseHTTPRequestHandler) -> None:
        if req.method == "POST" and req.path == "/v1/sandboxes":
            return send_json(h, 200, create_answer())
        if req.method == "POST" and req.path.endswith("/exec"):
            return send_ndjson(h, evs)
        if req.method == "DELETE":
            return send_empty(h)
        send_json(h, 404, {"error": f"no route for {req.method} {req.path}", "code": "not_found"})

    return handle
