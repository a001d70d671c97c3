import builtins
import unittest

import podflare
from podflare.errors import (
    ERROR_CLASSES,
    ERROR_STATUS,
    BadRequestError,
    ConcurrencyLimitError,
    ConflictError,
    NotFoundError,
    PodflareError,
    SandboxNotFoundError,
    UnauthorizedError,
    UnknownLanguageError,
    error_from_response,
)


class ErrorMappingTest(unittest.TestCase):
    def test_every_code_has_its_class_and_status(self):
        self.assertEqual(set(ERROR_CLASSES), set(ERROR_STATUS))
        for code, status in ERROR_STATUS.items():
            err = error_from_response(status, {"error": f"boom {code}", "code": code})
            self.assertIs(type(err), ERROR_CLASSES[code])
            self.assertIsInstance(err, PodflareError)
            self.assertEqual((err.code, err.status), (code, status))
            self.assertTrue(err.message.startswith(f"boom {code}"))
            self.assertEqual(ERROR_CLASSES[code]("x").status, status)
            # the same class is exported from the package under the TypeScript SDK's name
            self.assertIs(getattr(podflare, type(err).__name__), type(err))

    def test_refinements_and_builtin_twins(self):
        def answer(status, code):
            return error_from_response(status, {"error": "x", "code": code})

        self.assertIsInstance(answer(404, "sandbox_not_found"), NotFoundError)
        self.assertIsInstance(answer(400, "unknown_language"), BadRequestError)
        self.assertIsInstance(answer(409, "is_a_directory"), ConflictError)
        self.assertIsInstance(answer(404, "file_not_found"), builtins.FileNotFoundError)
        self.assertIsInstance(answer(409, "is_a_directory"), builtins.IsADirectoryError)
        self.assertIsInstance(podflare.TimeoutError("x"), builtins.TimeoutError)
        self.assertIsInstance(podflare.ConnectionError("x"), builtins.ConnectionError)
        self.assertEqual(podflare.TimeoutError("x").code, "request_timeout")

    def test_401_without_code(self):
        err = error_from_response(401, b"invalid api key", {"Content-Type": "text/plain"})
        self.assertIsInstance(err, UnauthorizedError)
        self.assertEqual((err.code, err.status), ("unauthorized", 401))
        self.assertIn("invalid api key", err.message)
        self.assertIn("PODFLARE_API_KEY", err.message)

    def test_unknown_code_is_a_plain_podflare_error(self):
        err = error_from_response(418, '{"error": "teapot", "code": "teapot"}')
        self.assertIs(type(err), PodflareError)
        self.assertEqual((err.code, err.status, err.message, str(err)), ("teapot", 418, "teapot", "teapot"))
        err = error_from_response(502, b"<html>bad gateway</html>")
        self.assertIs(type(err), PodflareError)
        self.assertEqual((err.code, err.status), ("http_502", 502))

    def test_server_status_wins(self):
        err = error_from_response(410, {"error": "gone", "code": "sandbox_not_found"})
        self.assertIsInstance(err, SandboxNotFoundError)
        self.assertEqual(err.status, 410)

    def test_retry_after(self):
        err = error_from_response(429, b'{"error": "too many", "code": "concurrency_limit"}',
                                  {"Retry-After": "7"})
        self.assertIsInstance(err, ConcurrencyLimitError)
        self.assertEqual(err.retry_after_s, 7.0)
        self.assertIsNone(error_from_response(429, {"error": "x"}).retry_after_s)

    def test_route_404_hint_and_context(self):
        err = error_from_response(404, {"error": "no route for this call; see docs/api.md",
                                        "code": "not_found"}, None, "POST /v1/sandboxes/x/fork")
        self.assertIs(type(err), NotFoundError)
        self.assertIn("may not provide this endpoint", err.message)
        self.assertTrue(err.message.endswith("[POST /v1/sandboxes/x/fork]"))
        # A 404 with no code at all (a server of another kind) gets the hint too.
        self.assertIn("may not provide this endpoint", error_from_response(404, "Not Found").message)

    def test_a_5xx_names_the_request_id(self):
        err = error_from_response(500, {"error": "internal error in hostd", "code": "internal"},
                                  {"X-Request-Id": "req_abc123"})
        self.assertTrue(err.message.endswith("(request req_abc123)"), err.message)

    def test_a_missing_thing_that_says_what_it_is_gets_no_endpoint_hint(self):
        err = error_from_response(404, {"error": "no context ctx_1 in sandbox sbx_1", "code": "not_found"})
        self.assertIs(type(err), NotFoundError)
        self.assertEqual(err.message, "no context ctx_1 in sandbox sbx_1")
        self.assertIsInstance(error_from_response(400, {"error": "?", "code": "unknown_language"}),
                              UnknownLanguageError)


if __name__ == "__main__":
    unittest.main()
