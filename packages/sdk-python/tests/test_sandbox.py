"""Protocol logic of the Sandbox class against a stand-in server (standin.py). The real
server is exercised by tests/conformance at the repository root."""

import builtins
import json
import os
import threading
import time
import unittest
from unittest import mock

from podflare.connection import _dropped
from podflare import (
    DIFF_SNIPPET,
    BadRequestError,
    ConnectionError,
    ExecEvent,
    FileEntry,
    IsADirectoryError,
    NotADirectoryError,
    NotFoundError,
    ProtocolError,
    RegionUnknownError,
    Sandbox,
    SandboxClosedError,
    SandboxNotFoundError,
    TimeoutError,
    UnauthorizedError,
    UnknownLanguageError,
)
from standin import (
    SBX,
    StandIn,
    basic_handler,
    chunk,
    create_answer,
    end_chunks,
    send_empty,
    send_json,
    send_ndjson,
    start_chunked,
)

ENV = {"PODFLARE_HOSTD_URL": "", "PODFLARE_HOST": "", "PODFLARE_API_KEY": ""}


class StandInTest(unittest.TestCase):
    def setUp(self):
        self.server = StandIn(basic_handler())
        self.url = self.server.url
        patcher = mock.patch.dict(os.environ, {k: v for k, v in ENV.items()})
        patcher.start()
        self.addCleanup(patcher.stop)
        for k in ENV:
            os.environ.pop(k, None)

    def tearDown(self):
        self.server.close()

    def handle(self, fn):
        self.server.handler = fn

    @property
    def reqs(self):
        return self.server.requests


class CreateTest(StandInTest):
    def test_keyword_options_are_sent_and_none_left_out(self):
        self.handle(lambda r, h: send_json(h, 200, {**create_answer(), "clamped": ["memory_mb"],
                                                    "warnings": ["w"]}))
        sb = Sandbox(self.url, None, "default", persistent=True, egress=False, memory_mb=8192, vcpus=4,
                     idle_timeout_s=600, max_lifetime_s=60, env={"A": "1"}, metadata={"o": "t"})
        self.assertEqual(self.reqs[0].path, "/v1/sandboxes")
        self.assertEqual(self.reqs[0].headers["content-type"], "application/json")
        self.assertEqual(self.reqs[0].json(), {
            "template": "default", "persistent": True, "egress": False, "memory_mb": 8192, "vcpus": 4,
            "idle_timeout_s": 600, "max_lifetime_s": 60, "env": {"A": "1"}, "metadata": {"o": "t"},
        })
        self.assertEqual(sb.id, SBX)
        self.assertEqual(sb.applied["memory_mb"], 1024)
        self.assertEqual((sb.clamped, sb.warnings), (["memory_mb"], ["w"]))
        self.assertEqual(sb.url(8000), f"{self.url}/v1/sandboxes/{SBX}/ports/8000/")
        # The hosted docs' spelling (docs.podflare.ai, examples/dev-environments).
        Sandbox(self.url, idle_timeout_seconds=1800)
        self.assertEqual(self.reqs[-1].json(), {"template": "default", "idle_timeout_s": 1800})
        with self.assertRaises(TypeError):
            Sandbox(self.url, idle_timeout_s=60, idle_timeout_seconds=1800)

    def test_defaults_and_a_bare_hosted_answer(self):
        self.handle(lambda r, h: send_json(h, 200, {"id": SBX, "state": "ready"}))
        sb = Sandbox(host=self.url + "/")
        self.assertEqual(self.reqs[0].json(), {"template": "default"})
        self.assertIsNone(sb.applied)
        self.assertEqual(sb.clamped, [])
        self.assertEqual(sb.host, self.url)

    def test_api_key_from_argument_or_env_and_host_from_env(self):
        os.environ["PODFLARE_HOSTD_URL"] = self.url
        Sandbox()
        self.assertNotIn("authorization", self.reqs[-1].headers)
        Sandbox(api_key="pf_arg")
        self.assertEqual(self.reqs[-1].headers["authorization"], "Bearer pf_arg")
        os.environ["PODFLARE_API_KEY"] = "pf_env"
        sb = Sandbox()
        self.assertEqual(self.reqs[-1].headers["authorization"], "Bearer pf_env")
        sb.run_code("1")
        self.assertEqual(self.reqs[-1].headers["authorization"], "Bearer pf_env")

    def test_region_goes_in_the_body_and_a_header_and_resume_carries_it(self):
        def handle(r, h):
            if r.path == "/v1/spaces/spc_1/resume":
                return send_json(h, 200, create_answer())
            return basic_handler()(r, h)
        self.handle(handle)
        sb = Sandbox(host=self.url, region="us-west")
        self.assertEqual(self.reqs[-1].json(), {"template": "default", "region": "us-west"})
        self.assertEqual(self.reqs[-1].headers["x-podflare-region"], "us-west")
        sb.run_code("1")
        self.assertEqual(self.reqs[-1].headers["x-podflare-region"], "us-west")
        Sandbox.resume("spc_1", self.url, region="us-west")
        self.assertEqual((self.reqs[-1].path, self.reqs[-1].json()),
                         ("/v1/spaces/spc_1/resume", {"region": "us-west"}))
        self.assertEqual(self.reqs[-1].headers["x-podflare-region"], "us-west")
        Sandbox.resume("spc_1", self.url)
        self.assertEqual(self.reqs[-1].body, b"")
        self.assertNotIn("x-podflare-region", self.reqs[-1].headers)

    def test_region_unknown_is_a_typed_error(self):
        self.handle(lambda r, h: send_json(h, 400, {"error": 'region "us-west" is not served here',
                                                    "code": "region_unknown"}))
        with self.assertRaises(RegionUnknownError) as ctx:
            Sandbox(self.url, region="us-west")
        self.assertIsInstance(ctx.exception, BadRequestError)
        self.assertEqual((ctx.exception.status, ctx.exception.code), (400, "region_unknown"))

    def test_host_from_podflare_host_and_precedence(self):
        os.environ["PODFLARE_HOST"] = self.url
        self.assertEqual(Sandbox().host, self.url)  # the hosted SDK's variable alone
        os.environ["PODFLARE_HOSTD_URL"] = "http://127.0.0.1:1"
        os.environ["PODFLARE_HOST"] = "http://127.0.0.1:2"
        self.assertEqual(Sandbox(host=self.url).host, self.url)  # the argument beats both
        os.environ["PODFLARE_HOSTD_URL"] = self.url
        self.assertEqual(Sandbox().host, self.url)  # PODFLARE_HOSTD_URL beats PODFLARE_HOST

    def test_401_without_code(self):
        def handle(r, h):
            h.send_response(401)
            h.send_header("Content-Type", "text/plain")
            h.send_header("Content-Length", "15")
            h.end_headers()
            h.wfile.write(b"invalid api key")
        self.handle(handle)
        with self.assertRaises(UnauthorizedError) as ctx:
            Sandbox(self.url, "wrong")
        self.assertEqual(ctx.exception.status, 401)


class ExecTest(StandInTest):
    def test_run_code_joins_streams_and_sends_fields(self):
        self.handle(basic_handler([
            {"type": "stdout", "data": "línea 1\n", "seq": 0, "ts": 1},
            {"type": "stderr", "data": "warn\n", "seq": 1, "ts": 1},
            {"type": "stdout", "data": "tail", "seq": 2, "ts": 2},
            {"type": "exit", "data": 3, "seq": 3, "ts": 3},
        ]))
        sb = Sandbox(self.url)
        r = sb.run_code("print(1)", timeout_ms=2000, env={"X": "y"}, cwd="/tmp")
        self.assertEqual((r.stdout, r.stderr, r.exit_code, r.text),
                         ("línea 1\ntail", "warn\n", 3, "línea 1\ntail"))
        self.assertEqual(self.reqs[-1].path, f"/v1/sandboxes/{SBX}/exec")
        # run_code asks for rich results; a stream only when told to (the hosted API has none).
        self.assertEqual(self.reqs[-1].json(), {"code": "print(1)", "language": "python", "timeout_ms": 2000,
                                                "env": {"X": "y"}, "cwd": "/tmp", "results": True})
        sb.run_code("uname", "bash")
        self.assertEqual(self.reqs[-1].json(), {"code": "uname", "language": "bash", "results": True})
        list(sb.run_code_stream("uname", "bash"))
        self.assertEqual(self.reqs[-1].json(), {"code": "uname", "language": "bash"})
        list(sb.run_code_stream("uname", "bash", results=True))
        self.assertEqual(self.reqs[-1].json(), {"code": "uname", "language": "bash", "results": True})

    def test_ndjson_split_across_small_chunks(self):
        events = [
            {"type": "stdout", "data": "ünïcödé ✓\n", "seq": 0, "ts": 1},
            {"type": "stdout", "data": "two\n", "seq": 1, "ts": 2},
            {"type": "exit", "data": 0, "seq": 2, "ts": 3},
        ]
        wire = "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in events).encode()

        def handle(r, h):
            if r.path == "/v1/sandboxes":
                return send_json(h, 200, create_answer())
            start_chunked(h)
            for i in range(0, len(wire), 3):
                chunk(h, wire[i:i + 3])
            end_chunks(h)
        self.handle(handle)
        sb = Sandbox(self.url)
        self.assertEqual(sb.run_code("x").stdout, "ünïcödé ✓\ntwo\n")
        self.assertEqual(list(sb.run_code_stream("x")),
                         [ExecEvent(e["type"], e["data"], e["seq"], e["ts"]) for e in events])

    def test_stream_yields_first_line_while_command_runs(self):
        release = threading.Event()

        def handle(r, h):
            if r.path == "/v1/sandboxes":
                return send_json(h, 200, create_answer())
            start_chunked(h)
            chunk(h, b'{"type":"stdout","data":"1\\n","seq":0,"ts":1}\n')
            release.wait(5)  # a buffering client deadlocks here
            chunk(h, b'{"type":"stdout","data":"2\\n","seq":1,"ts":2}\n'
                     b'{"type":"exit","data":0,"seq":2,"ts":3}\n')
            end_chunks(h)
        self.handle(handle)
        sb = Sandbox(self.url)
        t0 = time.monotonic()
        seen = []
        for ev in sb.run_code_stream("print(1); import time; time.sleep(5); print(2)"):
            if not seen:
                self.assertLess(time.monotonic() - t0, 2.0)
                release.set()
            seen.append(ev.data)
        self.assertEqual(seen, ["1\n", "2\n", 0])
        self.assertLess(time.monotonic() - t0, 4.0)

    def test_stopping_a_stream_early_then_calling_again(self):
        hold = threading.Event()
        self.addCleanup(hold.set)

        def handle(r, h):
            if r.path == "/v1/sandboxes":
                return send_json(h, 200, create_answer())
            if r.json()["code"] == "quick":
                return send_ndjson(h, [{"type": "exit", "data": 0, "seq": 0, "ts": 0}])
            start_chunked(h)
            chunk(h, b'{"type":"stdout","data":"first\\n","seq":0,"ts":1}\n')
            hold.wait(5)
            h.close_connection = True
        self.handle(handle)
        sb = Sandbox(self.url)
        stream = sb.run_code_stream("slow")
        self.assertEqual(next(stream).data, "first\n")
        stream.close()
        self.assertEqual(sb.run_code("quick").exit_code, 0)

    def test_a_call_while_a_stream_is_open_uses_another_connection(self):
        self.handle(basic_handler())
        sb = Sandbox(self.url)
        stream = sb.run_code_stream("x")
        next(stream)
        self.assertEqual(sb.run_code("y").stdout, "hi\n")
        self.assertEqual([e.type for e in stream], ["exit"])

    def test_typed_errors_before_streaming(self):
        def handle(r, h):
            if r.path == "/v1/sandboxes":
                return send_json(h, 200, create_answer())
            lang = r.json()["language"]
            if lang != "python":
                return send_json(h, 400, {"error": f"unknown language {lang}", "code": "unknown_language"})
            send_json(h, 404, {"error": "no sandbox", "code": "sandbox_not_found"})
        self.handle(handle)
        sb = Sandbox(self.url)
        with self.assertRaises(UnknownLanguageError):
            sb.run_code("x", "cobol")
        with self.assertRaises(UnknownLanguageError):
            list(sb.run_code_stream("x", "cobol"))
        with self.assertRaises(SandboxNotFoundError) as ctx:
            sb.run_code("x")
        self.assertEqual(ctx.exception.status, 404)

    def test_stream_without_exit_or_cut(self):
        def handle(r, h):
            if r.path == "/v1/sandboxes":
                return send_json(h, 200, create_answer())
            if r.json()["code"] == "noexit":
                return send_ndjson(h, [{"type": "stdout", "data": "x\n", "seq": 0, "ts": 0}])
            start_chunked(h)
            chunk(h, b'{"type":"stdout","data":"x\\n","seq":0,"ts":0}\n')
            h.close_connection = True  # the connection ends without the last chunk
        self.handle(handle)
        sb = Sandbox(self.url)
        with self.assertRaises(ProtocolError):
            sb.run_code("noexit")
        with self.assertRaises(ConnectionError):
            sb.run_code("cut")

    def test_missing_endpoints_are_not_found_not_missing_sandbox(self):
        self.handle(basic_handler())
        sb = Sandbox(self.url)
        calls = [lambda: sb.fork(2), sb.pause, sb.resume, sb.freeze, lambda: sb.set_timeout(60),
                 lambda: Sandbox.resume("spc_1", self.url)]
        for call in calls:
            with self.assertRaises(NotFoundError) as ctx:
                call()
            self.assertNotIsInstance(ctx.exception, SandboxNotFoundError)
            self.assertEqual(ctx.exception.code, "not_found")
            self.assertIn("may not provide this endpoint", ctx.exception.message)
        self.assertTrue(sb.is_open)


class TransportTest(StandInTest):
    def test_keep_alive_one_connection_and_latency(self):
        sb = Sandbox(self.url)
        times = []
        for _ in range(300):
            t0 = time.perf_counter()
            sb.run_code("1")
            times.append((time.perf_counter() - t0) * 1000)
        self.assertEqual({r.connection for r in self.reqs}, {self.reqs[0].connection})
        times.sort()
        print(f"\n  run_code round trip vs stand-in (ms): p50 {times[150]:.3f} p95 {times[285]:.3f}"
              f" p99 {times[297]:.3f}")

    def test_a_connection_that_breaks_under_a_call_resends_a_read_but_never_an_exec(self):
        # The server takes the second request of a connection and drops the connection without
        # an answer: as a server (or an edge) that went away while it worked on the call.
        def handle(r, h):
            if r.path == "/v1/sandboxes":
                return send_json(h, 200, create_answer())
            if r.index >= 1:
                h.close_connection = True
                return
            if r.method == "GET":
                return send_json(h, 200, create_answer())
            send_ndjson(h, [{"type": "stdout", "data": "ok\n", "seq": 0, "ts": 0},
                            {"type": "exit", "data": 0, "seq": 1, "ts": 0}])
        self.handle(handle)
        sb = Sandbox(self.url)
        sb.info()  # a read: sent again on a new connection
        gets = [r for r in self.reqs if r.method == "GET"]
        self.assertEqual(len(gets), 2)
        self.assertNotEqual(gets[0].connection, gets[1].connection)
        with self.assertRaises(ConnectionError):
            sb.run_code("print('once')")  # the server took it: it may have run, so never again
        execs = [r for r in self.reqs if r.path.endswith("/exec")]
        self.assertEqual(len(execs), 1, "an exec was sent twice")

    def test_server_closing_idle_connections_is_transparent(self):
        def handle(r, h):
            basic_handler()(r, h)
            h.close_connection = True  # closes after answering, without saying so
        self.handle(handle)
        sb = Sandbox(self.url)
        for _ in range(3):
            # The server's close has reached the pooled connection: it is not reused (a call on
            # it would break, and an exec is never sent twice).
            deadline = time.monotonic() + 5
            while not all(_dropped(c) for c in sb._transport._idle) and time.monotonic() < deadline:
                time.sleep(0.005)
            self.assertEqual(sb.run_code("1").exit_code, 0)
        self.assertEqual(len([r for r in self.reqs if r.path.endswith("/exec")]), 3)

    def test_silent_server_times_out_but_exec_without_deadline_waits(self):
        def handle(r, h):
            if r.path == "/v1/sandboxes":
                return send_json(h, 200, create_answer())
            if r.path.endswith("/exec"):
                time.sleep(0.4)
                return send_ndjson(h, [{"type": "exit", "data": 0, "seq": 0, "ts": 0}])
            time.sleep(1.5)
        self.handle(handle)
        sb = Sandbox(self.url, timeout_s=0.2)
        t0 = time.monotonic()
        with self.assertRaises(TimeoutError) as ctx:
            sb.info()
        self.assertLess(time.monotonic() - t0, 1.2)
        self.assertIsInstance(ctx.exception, builtins.TimeoutError)
        self.assertEqual((ctx.exception.code, ctx.exception.status), ("request_timeout", 0))
        self.assertEqual(sb.run_code("import time; time.sleep(0.4)").exit_code, 0)

    def test_unreachable_server(self):
        dead = StandIn()
        url = dead.url
        dead.close()
        with self.assertRaises(ConnectionError) as ctx:
            Sandbox(url)
        self.assertIn(url, ctx.exception.message)
        self.assertIsInstance(ctx.exception, builtins.ConnectionError)


class FilesTest(StandInTest):
    def test_upload_takes_data_then_path_but_str_then_bytes_as_path_then_data(self):
        def handle(r, h):
            if r.path == "/v1/sandboxes":
                return send_json(h, 200, create_answer())
            send_empty(h)
        self.handle(handle)
        sb = Sandbox(self.url)
        sb.upload(b"\x00\x01\xff", "/root/a b&c.bin")
        sb.upload("héllo", "/root/notes.txt")
        # A path-looking first str is still the data: the file is named by the second.
        sb.upload("/root/run.sh", "#!/usr/bin/env python3")
        sb.upload(bytearray(b"a,b\n"), "data.csv")
        sb.upload(memoryview(b"mv"), "/root/mv")
        # The hosted README's order, str then bytes, can only be (path, data).
        sb.upload("/root/data.csv", b"a,b\n")
        sb.upload("rel.bin", memoryview(b"\x01"))
        # Keywords are taken as named, alone or with one positional.
        sb.upload(path="/root/kw.txt", data="kw")
        sb.upload("/root/kw2.bin", data=b"k2")
        sb.upload(b"k3", path="/root/kw3.bin")
        puts = [r for r in self.reqs if r.method == "PUT"]
        files = f"/v1/sandboxes/{SBX}/files"
        self.assertEqual(
            [(r.path, r.query["path"], r.body, r.headers["content-type"]) for r in puts],
            [
                (files, "/root/a b&c.bin", b"\x00\x01\xff", "application/octet-stream"),
                (files, "/root/notes.txt", "héllo".encode(), "application/octet-stream"),
                (files, "#!/usr/bin/env python3", b"/root/run.sh", "application/octet-stream"),
                (files, "data.csv", b"a,b\n", "application/octet-stream"),
                (files, "/root/mv", b"mv", "application/octet-stream"),
                (files, "/root/data.csv", b"a,b\n", "application/octet-stream"),
                (files, "rel.bin", b"\x01", "application/octet-stream"),
                (files, "/root/kw.txt", b"kw", "application/octet-stream"),
                (files, "/root/kw2.bin", b"k2", "application/octet-stream"),
                (files, "/root/kw3.bin", b"k3", "application/octet-stream"),
            ],
        )
        self.assertIn("path=%2Froot%2Fa%20b%26c.bin", puts[0].raw_path)
        with self.assertRaises(TypeError):
            sb.upload(b"x", b"y")
        with self.assertRaises(TypeError):
            sb.upload("x", "")
        with self.assertRaises(TypeError):  # named keywords are never swapped
            sb.upload(data="/root/x", path=b"y")
        with self.assertRaises(TypeError):
            sb.upload("x", "/root/y", path="/root/z")
        self.assertEqual(len([r for r in self.reqs if r.method == "PUT"]), 10)

    def test_download_list_remove(self):
        data = b"\x01\x02\x03\x00\xfe"

        def handle(r, h):
            if r.path == "/v1/sandboxes":
                return send_json(h, 200, create_answer())
            if r.method == "DELETE":
                return send_empty(h)
            path = r.query.get("path")
            if path == "/root":
                return send_json(h, 200, {"path": "/root", "entries": [
                    {"name": "a.txt", "type": "file", "size": 5, "mode": 0o644, "mtime_ms": 1700000000000}]})
            if path == "/missing":
                return send_json(h, 404, {"error": "no file /missing", "code": "file_not_found"})
            h.send_response(200)
            h.send_header("Content-Type", "application/octet-stream")
            h.send_header("Content-Length", str(len(data)))
            h.end_headers()
            h.wfile.write(data)
        self.handle(handle)
        sb = Sandbox(self.url)
        self.assertEqual(sb.download("/root/f.bin"), data)
        with self.assertRaises(IsADirectoryError) as ctx:
            sb.download("/root")
        self.assertIn("list('/root')", ctx.exception.message)
        self.assertEqual(sb.list("/root"), [FileEntry("a.txt", "file", 5, 0o644, 1700000000000)])
        with self.assertRaises(NotADirectoryError):
            sb.list("/root/f.bin")
        with self.assertRaises(builtins.FileNotFoundError):
            sb.download("/missing")
        sb.remove("/root/f.bin")
        self.assertEqual((self.reqs[-1].method, self.reqs[-1].query["path"]), ("DELETE", "/root/f.bin"))


class LifecycleTest(StandInTest):
    def test_close_idempotent_and_calls_after_close(self):
        sb = Sandbox(self.url)
        sb.close()
        sb.close()
        self.assertEqual(len([r for r in self.reqs if r.method == "DELETE"]), 1)
        self.assertEqual(self.reqs[-1].path, f"/v1/sandboxes/{SBX}")
        n = len(self.reqs)
        with self.assertRaises(SandboxClosedError):
            sb.run_code("1")
        with self.assertRaises(SandboxClosedError):
            list(sb.run_code_stream("1"))
        with self.assertRaises(SandboxClosedError):
            sb.upload("x", "/x")
        self.assertEqual(len(self.reqs), n)

    def test_close_tolerates_a_reaped_sandbox_and_with_closes(self):
        def handle(r, h):
            if r.path == "/v1/sandboxes":
                return send_json(h, 200, create_answer())
            send_json(h, 404, {"error": "gone", "code": "sandbox_not_found"})
        self.handle(handle)
        with Sandbox(self.url) as sb:
            pass
        self.assertFalse(sb.is_open)
        self.assertEqual(self.reqs[-1].method, "DELETE")

    def test_fork_and_merge_into(self):
        kids = ["sbx_" + c * 32 for c in "123"]

        def handle(r, h):
            if r.path == "/v1/sandboxes":
                return send_json(h, 200, create_answer())
            if r.path.endswith("/fork"):
                return send_json(h, 200, {"children": kids})
            if "/merge_into/" in r.path or r.method == "DELETE":
                return send_empty(h)
            send_ndjson(h, [{"type": "exit", "data": 0, "seq": 0, "ts": 0}])
        self.handle(handle)
        parent = Sandbox(self.url)
        children = parent.fork(n=3)
        self.assertEqual(self.reqs[-1].json(), {"n": 3})
        self.assertEqual([c.id for c in children], kids)
        self.assertEqual(children[0].applied, parent.applied)
        self.assertEqual(children[2].run_code("1").exit_code, 0)
        self.assertEqual(self.reqs[-1].path, f"/v1/sandboxes/{kids[2]}/exec")
        parent.merge_into(children[1])
        self.assertEqual(self.reqs[-1].path, f"/v1/sandboxes/{SBX}/merge_into/{kids[1]}")
        self.assertEqual(parent.id, SBX)
        n = len(self.reqs)
        children[1].close()
        self.assertEqual(len(self.reqs), n)
        with self.assertRaises(SandboxClosedError) as ctx:
            children[1].run_code("1")
        self.assertIn(SBX, ctx.exception.message)
        self.assertEqual(parent.run_code("1").exit_code, 0)
        parent.fork()
        self.assertEqual(self.reqs[-1].json(), {"n": 1})

    def test_diff(self):
        a_id, b_id = "sbx_" + "a" * 32, "sbx_" + "b" * 32
        snaps = {
            a_id: {"/root": [0, "0", "dir"], "/root/same": [3, "1", "h1"], "/root/gone": [1, "1", "h2"],
                   "/root/edit": [2, "1", "h3"], "/root/big": [2000000, "5", None],
                   "/root/touched": [3, "1", "h4"]},
            b_id: {"/root": [0, "0", "dir"], "/root/same": [3, "1", "h1"], "/root/new": [1, "9", "h5"],
                   "/root/edit": [2, "2", "h9"], "/root/big": [2000000, "6", None],
                   "/root/touched": [3, "7", "h4"]},
        }
        codes = []

        def handle(r, h):
            if r.method == "GET":
                return send_json(h, 404, {"error": "no route for this call", "code": "not_found"})
            codes.append(r.json()["code"])
            sid = r.path.split("/")[3]
            send_ndjson(h, [{"type": "stdout", "data": json.dumps(snaps[sid]) + "\n", "seq": 0, "ts": 0},
                            {"type": "exit", "data": 0, "seq": 1, "ts": 0}])
        self.handle(handle)
        a = Sandbox.connect(a_id, self.url)
        b = Sandbox.connect(b_id, self.url)
        self.assertEqual(a.diff(b), {"added": ["/root/new"], "removed": ["/root/gone"],
                                     "modified": ["/root/big", "/root/edit"]})
        self.assertEqual(len(codes), 2)
        self.assertTrue(codes[0].startswith("exec(%s, " % json.dumps(DIFF_SNIPPET)))
        self.assertTrue(codes[0].endswith('"PATHS": ["/root","/tmp"]})'))

    def test_connect(self):
        def handle(r, h):
            if r.path.endswith("a" * 32):
                return send_json(h, 200, {**create_answer(), "created_at": "", "last_active_at": "",
                                          "metadata": {}, "parent_id": None})
            if r.path.endswith("0" * 32):
                return send_json(h, 404, {"error": "no such sandbox", "code": "sandbox_not_found"})
            send_json(h, 404, {"error": "no route for this call", "code": "not_found"})
        self.handle(handle)
        self.assertEqual(Sandbox.connect(SBX, self.url).applied["vcpus"], 2)
        with self.assertRaises(SandboxNotFoundError):
            Sandbox.connect("sbx_" + "0" * 32, self.url)
        self.assertIsNone(Sandbox.connect("sbx_" + "f" * 32, self.url).applied)

    def test_pause_resume_timeout_freeze_and_resume_space(self):
        def handle(r, h):
            if r.path == "/v1/sandboxes":
                return send_json(h, 200, create_answer())
            if r.path.endswith("/freeze"):
                return send_json(h, 200, {"space_id": "spc_1"})
            if r.path == "/v1/spaces/spc_1/resume":
                return send_json(h, 200, create_answer("sbx_" + "c" * 32))
            if r.path.endswith("/timeout"):
                return send_json(h, 200, {"idle_timeout_s": 1800})
            send_empty(h)
        self.handle(handle)
        sb = Sandbox(self.url, persistent=True)
        sb.pause()
        sb.resume()
        self.assertEqual([r.path for r in self.reqs[-2:]],
                         [f"/v1/sandboxes/{SBX}/pause", f"/v1/sandboxes/{SBX}/resume"])
        sb.set_timeout(99999)
        self.assertEqual(self.reqs[-1].json(), {"idle_timeout_s": 99999})
        self.assertEqual(sb.applied["idle_timeout_s"], 1800)
        self.assertEqual(sb.freeze(), "spc_1")
        n = len(self.reqs)
        sb.close()
        self.assertEqual(len(self.reqs), n, "close after freeze must not delete the Space")
        with self.assertRaises(SandboxClosedError) as ctx:
            sb.run_code("1")
        self.assertIn("Sandbox.resume", ctx.exception.message)
        back = Sandbox.resume("spc_1", self.url)
        self.assertEqual(back.id, "sbx_" + "c" * 32)
        self.assertEqual(self.reqs[-1].path, "/v1/spaces/spc_1/resume")


class AccountTest(StandInTest):
    def test_list_sandboxes_and_usage(self):
        usage = {"owner": "key_1", "sandboxes_created": 3, "sandbox_seconds": 12.5, "gb_seconds": 6.25,
                 "execs": 7, "forks": 2}

        def handle(r, h):
            if r.path == "/v1/sandboxes":
                return send_json(h, 200, {"sandboxes": [create_answer()]})
            if r.path == "/v1/usage":
                return send_json(h, 200, usage)
            send_json(h, 404, {"error": "no route for this call", "code": "not_found"})
        self.handle(handle)
        self.assertEqual([s["id"] for s in Sandbox.list_sandboxes(self.url)], [SBX])
        self.assertEqual(Sandbox.usage(self.url), usage)
        self.assertEqual((self.reqs[-1].method, self.reqs[-1].path), ("GET", "/v1/usage"))
        self.handle(lambda r, h: send_json(h, 200, {}))
        with self.assertRaises(ProtocolError):
            Sandbox.usage(self.url)


if __name__ == "__main__":
    unittest.main()
