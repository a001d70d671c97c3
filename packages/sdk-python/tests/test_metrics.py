"""Sandbox.metrics() against a stand-in server (standin.py): the GET it sends, the wire dict it
returns, and the errors of a closed or missing sandbox."""

import os
import unittest
from unittest import mock

from podflare import Sandbox, SandboxClosedError, SandboxNotFoundError
from standin import SBX, StandIn, create_answer, send_empty, send_json

ENV = {"PODFLARE_HOSTD_URL": "", "PODFLARE_HOST": "", "PODFLARE_API_KEY": ""}
WIRE = {"id": SBX, "state": "ready", "cpu_usec": 1500, "memory_bytes": 2**20, "memory_limit_bytes": 2**30,
        "disk_bytes": 4096, "disk_limit_bytes": 2**32, "pids": 3, "ts": 1765000000000}


class MetricsTest(unittest.TestCase):
    def setUp(self):
        self.missing = False

        def handle(req, h):
            if req.method == "POST" and req.path == "/v1/sandboxes":
                return send_json(h, 200, create_answer())
            if req.method == "GET" and req.path.endswith("/metrics") and not self.missing:
                return send_json(h, 200, WIRE)
            if req.method == "DELETE":
                return send_empty(h)
            send_json(h, 404, {"error": f"sandbox {SBX} not found", "code": "sandbox_not_found"})

        self.server = StandIn(handle)
        patcher = mock.patch.dict(os.environ, {})
        patcher.start()
        self.addCleanup(patcher.stop)
        for k in ENV:
            os.environ.pop(k, None)

    def tearDown(self):
        self.server.close()

    def test_metrics_gets_the_wire_shape(self):
        sb = Sandbox(host=self.server.url)
        self.assertEqual(sb.metrics(), WIRE)
        get = [r for r in self.server.requests if r.path.endswith("/metrics")][0]
        self.assertEqual((get.method, get.path), ("GET", f"/v1/sandboxes/{SBX}/metrics"))
        self.missing = True
        with self.assertRaises(SandboxNotFoundError):
            sb.metrics()
        sb.close()
        with self.assertRaises(SandboxClosedError):
            sb.metrics()


if __name__ == "__main__":
    unittest.main()
