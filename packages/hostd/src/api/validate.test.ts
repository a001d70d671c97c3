// Request validation: every wrong field is a 400 (or 413) naming the field and what it takes.
import { test } from "node:test";
import assert from "node:assert/strict";
import { PodflareError, limits } from "@podflare/protocol";
import { parseBodyPath, parseCreate, parseCreateKey, parseExec, parseFilePath, parseFork, parseSetNetwork, parseSetTimeout, parseStart } from "./validate.js";

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
    idle_timeout_s: undefined, max_lifetime_s: 3, lifetime_s: undefined, env: { A: "1" }, metadata: undefined, network: undefined,
  });
  rejects(() => parseCreate({ lifetime_s: 0 }), "bad_request", /lifetime_s must be an integer from 1 to/);
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
  rejects(() => parseFork({ n: Infinity }), "bad_request", /got Infinity$/);
  rejects(() => parseFork({ n: "2" }), "bad_request", /got "2"$/);
  assert.equal(parseFilePath(new URL("http://h/x?path=/root/a")), "/root/a");
  rejects(() => parseFilePath(new URL("http://h/x")), "invalid_path", /\?path=/);
  rejects(() => parseFilePath(new URL(`http://h/x?path=/${"a".repeat(4100)}`)), "invalid_path", /4096/);
});

test("parseSetTimeout: idle_timeout_s from 1 s to 30 days, lifetime_s from 1 s to a year, at least one", () => {
  assert.deepEqual(parseSetTimeout({ idle_timeout_s: 60 }), { idleTimeoutS: 60 });
  assert.deepEqual(parseSetTimeout({ lifetime_s: 90 }), { lifetimeS: 90 });
  assert.deepEqual(parseSetTimeout({ idle_timeout_s: 60, lifetime_s: 90 }), { idleTimeoutS: 60, lifetimeS: 90 });
  rejects(() => parseSetTimeout({}), "bad_request", /give idle_timeout_s, lifetime_s or both/);
  rejects(() => parseSetTimeout({ idle_timeout_s: 1.5 }), "bad_request", /idle_timeout_s/);
  rejects(() => parseSetTimeout({ idle_timeout_s: 30 * 86400 + 1 }), "bad_request", /from 1 to 2592000/);
  rejects(() => parseSetTimeout({ lifetime_s: 0 }), "bad_request", /lifetime_s must be an integer from 1/);
  rejects(() => parseSetTimeout({ idle_timeout_s: 60, timeout: 5 }), "bad_request", /unknown field\(s\) "timeout"/);
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
  rejects(() => parseCreateKey({ name: "ci\x1b[2J" }), "bad_request", /name must not hold control characters/);
  rejects(() => parseCreateKey({ name: "a\nb" }), "bad_request", /name must not hold control characters/);
  // Trojan Source: "ci-prod" shown, "ci-\u202edorp" stored.
  rejects(() => parseCreateKey({ name: "ci-\u202edorp" }), "bad_request", /must not hold bidirectional controls/);
  rejects(() => parseCreateKey({ name: "a\u2066b\u2069" }), "bad_request", /must not hold bidirectional controls/);
  rejects(() => parseCreateKey({ name: "a\u2028b" }), "bad_request", /line separators/);
  assert.equal(parseCreateKey({ name: "équipe ✓ ci" }).name, "équipe ✓ ci", "other Unicode is a name");
});

test("metadata and env are bounded by limits (keys and UTF-8 bytes); the limit itself is accepted", () => {
  const keys = (n: number, value = "v") => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, value]));
  assert.equal(Object.keys(parseCreate({ metadata: keys(limits.maxMetadataKeys) }).metadata!).length, limits.maxMetadataKeys);
  rejects(() => parseCreate({ metadata: keys(limits.maxMetadataKeys + 1) }), "bad_request", new RegExp(`metadata has ${limits.maxMetadataKeys + 1} keys.*at most ${limits.maxMetadataKeys}`));
  const fits = "x".repeat(limits.maxMetadataBytes - 1);
  assert.equal(parseCreate({ metadata: { k: fits } }).metadata!.k, fits);
  rejects(() => parseCreate({ metadata: { k: fits + "x" } }), "bad_request", new RegExp(`metadata takes ${limits.maxMetadataBytes + 1} bytes.*at most ${limits.maxMetadataBytes}`));
  // 17 MiB of metadata was accepted before, and every list answer carried it.
  rejects(() => parseCreate({ metadata: { k: "x".repeat(16 << 20) } }), "bad_request", /metadata takes/);
  rejects(() => parseCreate({ metadata: { k: "é".repeat(limits.maxMetadataBytes / 2) } }), "bad_request", /bytes \(names and values, UTF-8\)/);
  rejects(() => parseCreate({ env: keys(limits.maxEnvVars + 1) }), "bad_request", /env has .* variables/);
  rejects(() => parseExec({ code: "1", env: { A: "x".repeat(limits.maxEnvBytes) } }, timeouts), "bad_request", /env takes/);
  rejects(() => parseStart({ cmd: "true", env: { A: "x".repeat(limits.maxEnvBytes) } }), "bad_request", /env takes/);
});

test("strings holding a lone surrogate are refused where they would reach the guest or the store", () => {
  const lone = "\udfff";
  rejects(() => parseCreate({ env: { X: lone } }), "bad_request", /env\.X holds a lone UTF-16 surrogate/);
  rejects(() => parseCreate({ env: { [`X${lone}`]: "1" } }), "bad_request", /env name .* lone UTF-16 surrogate/);
  rejects(() => parseCreate({ metadata: { k: `a${lone}` } }), "bad_request", /metadata\.k holds a lone/);
  rejects(() => parseExec({ code: "1", env: { X: lone } }, timeouts), "bad_request", /env\.X holds a lone/);
  rejects(() => parseExec({ code: `print("${lone}")` }, timeouts), "bad_request", /code holds a lone/);
  rejects(() => parseExec({ code: "1", cwd: `/tmp/${lone}` }, timeouts), "bad_request", /cwd holds a lone/);
  rejects(() => parseStart({ cmd: "echo", args: [lone] }), "bad_request", /args\[0\] holds a lone/);
  rejects(() => parseStart({ cmd: "true", env: { X: "\ud800" } }), "bad_request", /env\.X holds a lone/);
  rejects(() => parseBodyPath({ path: `/tmp/${lone}` }, "path"), "bad_request", /path holds a lone/);
  // A surrogate pair is one character, and fine.
  assert.deepEqual(parseCreate({ env: { X: "\ud83d\ude00" } }).env, { X: "\u{1F600}" });
});
