import assert from "node:assert/strict";
import { test } from "node:test";
import {
  BadRequestError,
  ConcurrencyLimitError,
  ConflictError,
  ErrorCode,
  IsADirectoryError,
  NotFoundError,
  PodflareError,
  SandboxNotFoundError,
  SandboxRuntimeError,
  UnauthorizedError,
  UnknownLanguageError,
  errorClasses,
  errorFromResponse,
  errorStatus,
  isErrorCode,
} from "podflare";

test("every code maps to its own class carrying the code and the table's status", () => {
  for (const code of Object.values(ErrorCode)) {
    const status = errorStatus[code];
    const err = errorFromResponse(status, { error: `boom ${code}`, code }, {});
    assert.ok(err instanceof PodflareError);
    assert.ok(err instanceof errorClasses[code], code);
    assert.equal(err.constructor, errorClasses[code], code);
    assert.equal(err.code, code);
    assert.equal(err.status, status);
    assert.ok(err.message.startsWith(`boom ${code}`));
    assert.equal(err.name, errorClasses[code].name);
    // A directly constructed one gets the same status from the table.
    assert.equal(new errorClasses[code]("x").status, status);
  }
});

test("refining codes extend the broader class", () => {
  assert.ok(errorFromResponse(404, { error: "x", code: "sandbox_not_found" }) instanceof NotFoundError);
  assert.ok(errorFromResponse(400, { error: "x", code: "unknown_language" }) instanceof BadRequestError);
  assert.ok(errorFromResponse(409, { error: "x", code: "is_a_directory" }) instanceof ConflictError);
  assert.ok(new IsADirectoryError("x") instanceof ConflictError);
  assert.ok(new SandboxRuntimeError("x") instanceof PodflareError);
});

test("a 401 without a code (hosted service) is an UnauthorizedError that names the fix", () => {
  const err = errorFromResponse(401, "invalid api key", { "content-type": "text/plain" });
  assert.ok(err instanceof UnauthorizedError);
  assert.equal(err.code, "unauthorized");
  assert.equal(err.status, 401);
  assert.match(err.message, /invalid api key/);
  assert.match(err.message, /PODFLARE_API_KEY/);
  const json = errorFromResponse(401, { error: "missing Authorization: Bearer <key>" });
  assert.ok(json instanceof UnauthorizedError);
});

test("an unknown code gives a plain PodflareError with that code and the status", () => {
  const err = errorFromResponse(418, JSON.stringify({ error: "I'm a teapot", code: "teapot" }), {});
  assert.equal(err.constructor, PodflareError);
  assert.equal(err.code, "teapot");
  assert.equal(err.status, 418);
  assert.equal(err.message, "I'm a teapot");
  const noCode = errorFromResponse(502, "<html>bad gateway</html>", {});
  assert.equal(noCode.constructor, PodflareError);
  assert.equal(noCode.code, "http_502");
  assert.equal(noCode.status, 502);
  assert.match(noCode.message, /bad gateway/);
  assert.equal(isErrorCode("teapot"), false);
  assert.equal(isErrorCode("toString"), false);
});

test("the server's status wins over the table when they differ", () => {
  const err = errorFromResponse(410, { error: "gone", code: "sandbox_not_found" });
  assert.ok(err instanceof SandboxNotFoundError);
  assert.equal(err.status, 410);
});

test("429 carries Retry-After as retryAfterS, from a header object or Headers", () => {
  const a = errorFromResponse(429, Buffer.from('{"error":"too many sandboxes","code":"concurrency_limit"}'), { "Retry-After": "7" });
  assert.ok(a instanceof ConcurrencyLimitError);
  assert.equal(a.retryAfterS, 7);
  assert.equal(a.headers["retry-after"], "7");
  const b = errorFromResponse(429, "slow down", new Headers({ "retry-after": "3" }));
  assert.ok(b instanceof ConcurrencyLimitError);
  assert.equal(b.retryAfterS, 3);
  const c = errorFromResponse(429, { error: "x", code: "concurrency_limit" });
  assert.ok(c instanceof ConcurrencyLimitError);
  assert.equal(c.retryAfterS, undefined);
});

test("a route 404 says the server may not provide the endpoint; context is appended", () => {
  const err = errorFromResponse(404, { error: "no route for this call", code: "not_found" }, {}, "POST /v1/sandboxes/x/fork");
  const once = errorFromResponse(404, { error: "no route for POST /v1/sandboxes/x/fork", code: "not_found" }, {}, "POST /v1/sandboxes/x/fork");
  assert.ok(!once.message.includes("["), "context already in the message is not repeated");
  assert.ok(err instanceof NotFoundError);
  assert.ok(!(err instanceof SandboxNotFoundError));
  assert.match(err.message, /may not provide this endpoint/);
  assert.match(err.message, /\[POST \/v1\/sandboxes\/x\/fork\]$/);
  assert.ok(errorFromResponse(400, { error: "cobol?", code: "unknown_language" }) instanceof UnknownLanguageError);
  // A 404 without a code (a server of another kind) gets the hint; one that names what is missing does not.
  assert.match(errorFromResponse(404, "Not Found").message, /may not provide this endpoint/);
  const ctx = errorFromResponse(404, { error: "no context ctx_1 in sandbox sbx_1", code: "not_found" });
  assert.ok(ctx instanceof NotFoundError);
  assert.equal(ctx.message, "no context ctx_1 in sandbox sbx_1");
});

test("a 5xx names hostd's X-Request-Id, under which its log has the details", () => {
  const err = errorFromResponse(500, { error: "internal error in hostd: its log has the details", code: "internal" }, { "x-request-id": "req_abc123" });
  assert.match(err.message, /\(request req_abc123\)$/);
  assert.doesNotMatch(errorFromResponse(404, { error: "no sandbox", code: "sandbox_not_found" }, { "x-request-id": "req_x" }).message, /req_x/);
});
