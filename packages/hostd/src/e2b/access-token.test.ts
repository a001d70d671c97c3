import assert from "node:assert/strict";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { AccessTokens } from "./access-token.js";

const A = "sbx_" + "a".repeat(32);
const B = "sbx_" + "b".repeat(32);

test("a token opens only the sandbox it was made for, and gives back the key it holds", () => {
  const tokens = new AccessTokens(crypto.randomBytes(32));
  const t = tokens.issue(A, "key-1");
  assert.deepEqual(tokens.open(t, A), { key: "key-1" });
  assert.equal(tokens.open(t, B), null);
  assert.deepEqual(tokens.open(tokens.issue(A, undefined), A), { key: undefined });
});

test("a remembered token still opens only its own sandbox", () => {
  const tokens = new AccessTokens(crypto.randomBytes(32));
  const t = tokens.issue(A, "key-1");
  for (let i = 0; i < 3; i++) {
    assert.deepEqual(tokens.open(t, A), { key: "key-1" });
    assert.equal(tokens.open(t, B), null);
  }
  // More tokens than it remembers: the first is unsealed again, with the same answer.
  for (let i = 0; i < 1100; i++) tokens.open(tokens.issue(A, `k${i}`), A);
  assert.deepEqual(tokens.open(t, A), { key: "key-1" });
  assert.equal(tokens.open(t, B), null);
});

test("a token from another secret, or altered, opens nothing", () => {
  const tokens = new AccessTokens(crypto.randomBytes(32));
  const other = new AccessTokens(crypto.randomBytes(32));
  assert.equal(tokens.open(other.issue(A, "k"), A), null);
  const raw = Buffer.from(tokens.issue(A, "k"), "base64url");
  raw[20]! ^= 1;
  assert.equal(tokens.open(raw.toString("base64url"), A), null);
  assert.equal(tokens.open("garbage", A), null);
  assert.equal(tokens.open(`${tokens.issue(A, "k")}==`, A), null, "only the form we issue");
});

test("the secret is made once (mode 0600) and kept, so tokens survive a restart", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "e2b-token-"));
  try {
    const t = AccessTokens.load(dir).issue(A, "k");
    assert.equal(fs.statSync(path.join(dir, "e2b-token.key")).mode & 0o777, 0o600);
    assert.deepEqual(AccessTokens.load(dir).open(t, A), { key: "k" });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
