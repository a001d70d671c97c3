"""Client (one endpoint and connection pool shared by sandboxes) against the stand-in server."""

import os
import unittest
from unittest import mock

from podflare import Client, Event, ExecEvent, Sandbox
from standin import StandIn, basic_handler, send_json

KID = "sbx_" + "1" * 32


def handler():
    basic = basic_handler()

    def handle(r, h):
        if r.method == "POST" and r.path.endswith("/fork"):
            return send_json(h, 200, {"children": [KID]})
        if r.method == "GET" and r.path == "/v1/sandboxes":
            return send_json(h, 200, {"sandboxes": []})
        basic(r, h)

    return handle


ENV = ("PODFLARE_HOSTD_URL", "PODFLARE_HOST", "PODFLARE_API_KEY", "PODFLARE_TRACEPARENT")
TRACE = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


class ClientTest(unittest.TestCase):
    def setUp(self):
        self.server = StandIn(handler())
        patcher = mock.patch.dict(os.environ, {})
        patcher.start()
        self.addCleanup(patcher.stop)
        for k in ENV:
            os.environ.pop(k, None)

    def tearDown(self):
        self.server.close()

    def test_sandboxes_share_the_clients_settings_and_transport(self):
        client = Client(host=self.server.url, api_key="pk_1", traceparent=TRACE)
        a = Sandbox(client=client)
        b = Sandbox(client=client)
        self.assertIs(a._transport, b._transport)
        self.assertIs(a.fork()[0]._transport, a._transport)
        a.close()  # leaves the shared connections to the client
        b.run_code("print(1)")
        for r in self.server.requests:
            self.assertEqual(r.headers["authorization"], "Bearer pk_1")
            self.assertEqual(r.headers["traceparent"], TRACE)
        self.assertEqual(Sandbox.list_sandboxes(client=client), [])
        client.close()

    def test_connection_settings_beside_a_client_are_a_type_error(self):
        client = Client(host=self.server.url)
        for kwargs in ({"host": self.server.url}, {"api_key": "k"}, {"region": "us-west"}, {"timeout_s": 3}):
            with self.assertRaises(TypeError) as ctx:
                Sandbox(client=client, **kwargs)
            self.assertIn("to Client(...)", str(ctx.exception))
        with self.assertRaises(TypeError):
            Sandbox(client="http://127.0.0.1:1")
        self.assertEqual(self.server.requests, [])

    def test_region_of_the_client_goes_into_the_create_body(self):
        client = Client(host=self.server.url, region="us-west")
        Sandbox(client=client, region="us-west")
        self.assertEqual(self.server.requests[0].json()["region"], "us-west")
        self.assertEqual(self.server.requests[0].headers["x-podflare-region"], "us-west")

    def test_event_is_exec_event_with_code_on_exit(self):
        self.assertIs(Event, ExecEvent)
        self.assertEqual(Event("exit", 3, 1, 0).code, 3)
        self.assertIsNone(Event("stdout", "x", 1, 0).code)


if __name__ == "__main__":
    unittest.main()
