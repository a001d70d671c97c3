// Request validation: every wrong field is a 400 (or 413) naming the field and what it takes.
import { test } from "node:test";
import assert from "node:assert/strict";
import { PodflareError, limits } from "@podflare/protocol";
import { parseCreate, parseCreateKey, parseExec, parseFilePath, parseFork, parseIdleTimeout, parseSetNetwork } from "./validate.js";

function rejects(fn: () => unknown, code: string, message: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof PodflareError, String(err));
    assert.equal(err.code, code);
    assert.match(err.message, message);
    return true;
  });
}

const timeouts = { defaultTimeoutMs: 600_000, maxTimeoutMs: 86_400_000 };

test("parseCreate: the fields it takes, and a 400 naming each wrong one", () => {
  assert.deepEqual(parseCreate({ template: "default", memory_mb: 512, max_lifetime_s: 3, persistent: true, env: { A: "1" } }), {
    template: "default", persistent: true, egress: undefined, memory_mb: 512, disk_mb: undefined, vcpus: undefined,
    idle_timeout_s: undefined, max_lifetime_s: 3, env: { A: "1" }, metadata: undefined, network: undefined,
  });
  rejects(() => parseCreate({ max_lifetime_s: 0 }), "bad_request", /max_lifetime_s must be an integer from 1 to/);
  rejects(() => parseCreate({ max_lifetime_s: 1.5 }), "bad_request", /max_lifetime_s/);
  rejects(() => parseCreate({ idle_timeout_s: "soon" }), "bad_request", /idle_timeout_s must be an integer/);
  rejects(() => parseCreate({ memory_mb: 8 }), "bad_request", /memory_mb must be an integer from 64/);
  rejects(() => parseCreate({ persistent: "yes" }), "bad_request", /persistent must be true or false/);
  rejects(() => parseCreate({ template: "../etc" }), "bad_request", /template must be a template name/);
  rejects(() => parseCreate({ env: { "A=B": "1" } }), "bad_request", /env name "A=B" is not valid/);
  rejects(() => parseCreate({ metadata: { k: 1 } }), "bad_request", /metadata\.k must be a string/);
  rejects(() => parseCreate({ env: { A: "x\0y" } }), "bad_request", /NUL/);
});

test("parseExec: defaults, bounds and languages", () => {
  assert.deepEqual(parseExec({ code: "print(1)" }, timeouts), { code: "print(1)", language: "python", timeout_ms: 600_000, env: undefined, cwd: undefined });
  assert.equal(parseExec({ code: "ls", language: "bash", timeout_ms: 5 }, timeouts).timeout_ms, 5);
  rejects(() => parseExec({}, timeouts), "bad_request", /code must be a string of Python code/);
  rejects(() => parseExec({ code: "x", language: "ruby" }, timeouts), "unknown_language", /language must be one of "python", "bash"/);
  rejects(() => parseExec({ code: "x", timeout_ms: 0 }, timeouts), "bad_request", /timeout_ms must be an integer from 1/);
  rejects(() => parseExec({ code: "x", timeout_ms: timeouts.maxTimeoutMs + 1 }, timeouts), "bad_request", /timeout_ms/);
  rejects(() => parseExec({ code: "x", cwd: "tmp" }, timeouts), "bad_request", /cwd must be an absolute path/);
  rejects(() => parseExec({ code: "x".repeat(limits.maxCodeBytes + 1) }, timeouts), "payload_too_large", /upload it as a file/);
});

test("parseFork and parseFilePath", () => {
  assert.equal(parseFork({}), 1);
  assert.equal(parseFork({ n: limits.maxForkChildren }), limits.maxForkChildren);
  rejects(() => parseFork({ n: 0 }), "bad_request", /n must be an integer from 1 to/);
  rejects(() => parseFork({ n: limits.maxForkChildren + 1 }), "bad_request", /n must be an integer/);
  assert.equal(parseFilePath(new URL("http://h/x?path=/root/a")), "/root/a");
  rejects(() => parseFilePath(new URL("http://h/x")), "invalid_path", /\?path=/);
  rejects(() => parseFilePath(new URL(`http://h/x?path=/${"a".repeat(4100)}`)), "invalid_path", /4096/);
});

test("parseIdleTimeout: whole seconds from 1 to 30 days", () => {
  assert.equal(parseIdleTimeout({ idle_timeout_s: 60 }), 60);
  rejects(() => parseIdleTimeout({}), "bad_request", /idle_timeout_s must be an integer/);
  rejects(() => parseIdleTimeout({ idle_timeout_s: 1.5 }), "bad_request", /idle_timeout_s/);
  rejects(() => parseIdleTimeout({ idle_timeout_s: 30 * 86400 + 1 }), "bad_request", /from 1 to 2592000/);
});

test("parseSetNetwork: egress is a boolean when given; the policy passes on", () => {
  assert.deepEqual(parseSetNetwork({ allow_out: ["10.0.0.0/8"] }), { allow_out: ["10.0.0.0/8"] });
  assert.deepEqual(parseSetNetwork({ egress: false }), { egress: false });
  rejects(() => parseSetNetwork({ egress: "yes" }), "bad_request", /egress must be true or false/);
});

test("parseCreateKey: defaults, and a 400 naming each wrong field", () => {
  assert.deepEqual(parseCreateKey({}), { name: "unnamed", tier: "free", admin: false });
  assert.deepEqual(parseCreateKey({ name: "ci", tier: "pro", admin: true }), { name: "ci", tier: "pro", admin: true });
  rejects(() => parseCreateKey({ tier: "gold" }), "bad_request", /tier must be one of free, pro, scale, enterprise/);
  rejects(() => parseCreateKey({ name: 7 }), "bad_request", /name must be a string/);
  rejects(() => parseCreateKey({ admin: "yes" }), "bad_request", /admin must be true or false/);
});
