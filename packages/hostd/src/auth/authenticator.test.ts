import { test } from "node:test";
import assert from "node:assert/strict";
import type { IncomingMessage } from "node:http";
import { AuthStartError, createAuthenticator, type AuthOptions } from "./authenticator.js";
import type { KeyRecord } from "./keys.js";

/** An in-memory key store: the test adds and revokes keys as another process would. */
function fakeStore() {
  const live = new Map<string, KeyRecord>();
  let lookups = 0;
  return {
    live,
    lookups: () => lookups,
    add(key: string) {
      live.set(key, { id: `key_${key}`, name: key, tier: "pro", admin: false, prefix: key.slice(0, 4), createdAt: 0, lastUsedAt: null, revokedAt: null });
    },
    hasLiveKeys: () => (lookups++, live.size > 0),
    verify: (key: string) => live.get(key),
  };
}

const req = (key?: string) => ({ headers: key ? { authorization: `Bearer ${key}` } : {} }) as IncomingMessage;
const loopback = { host: "127.0.0.1", loopback: true };
const wide = { host: "0.0.0.0", loopback: false };

function auth(store: ReturnType<typeof fakeStore>, o: Partial<AuthOptions> = {}) {
  return createAuthenticator({ keyStore: store, envKeys: [], envTier: "enterprise", localTier: "enterprise", disabled: false, bind: loopback, ...o });
}

test("loopback, no key: off; the first stored key turns it on at the very next request, with no cache", () => {
  const store = fakeStore();
  const a = auth(store);
  assert.equal(a.mode, "until-first-key");
  assert.deepEqual(a.principal(req()), { owner: "local", tier: "enterprise", admin: true });
  store.add("k1");
  assert.throws(() => a.principal(req()), /missing Authorization: Bearer <key>/);
  assert.equal(a.principal(req("k1")).owner, "key_k1");
});

test("loopback: once on, revoking every key does not turn auth off, and the store is not asked again", () => {
  const store = fakeStore();
  const a = auth(store);
  store.add("k1");
  assert.equal(a.enabled(), true);
  const asked = store.lookups();
  store.live.clear();
  assert.equal(a.enabled(), true);
  assert.throws(() => a.principal(req()), /missing Authorization/);
  assert.throws(() => a.principal(req("k1")), /invalid api key/);
  assert.equal(store.lookups(), asked, "hasLiveKeys was asked after auth was on");
});

test("non-loopback: on from the start for good, even when every stored key goes", () => {
  const store = fakeStore();
  store.add("k1");
  const a = auth(store, { bind: wide });
  assert.equal(a.mode, "on");
  store.live.clear();
  assert.equal(a.enabled(), true);
  assert.throws(() => a.principal(req()), /missing Authorization/);
});

test("non-loopback without any key refuses to start; PODFLARE_AUTH_DISABLED=1 is the only way to run it open", () => {
  assert.throws(() => auth(fakeStore(), { bind: wide }), (e: Error) => e instanceof AuthStartError && /refusing to listen on 0\.0\.0\.0 without API keys/.test(e.message));
  const open = auth(fakeStore(), { bind: wide, disabled: true });
  assert.equal(open.mode, "off");
  assert.equal(open.principal(req()).owner, "local");
});

test("an env key or the admin key alone makes auth on from the start on any bind", () => {
  assert.equal(auth(fakeStore(), { envKeys: ["e1"] }).mode, "on");
  const a = auth(fakeStore(), { adminKey: "adm", bind: wide });
  assert.equal(a.mode, "on");
  assert.deepEqual(a.principal(req("adm")), { owner: "admin", tier: "enterprise", admin: true });
});

test("PODFLARE_AUTH_DISABLED=1 on loopback stays off even after keys appear", () => {
  const store = fakeStore();
  const a = auth(store, { disabled: true });
  store.add("k1");
  assert.equal(a.enabled(), false);
});
