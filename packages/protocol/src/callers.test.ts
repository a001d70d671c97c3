import { test } from "node:test";
import assert from "node:assert/strict";
import { bearerKey, callerOf, e2bApiKey, servedAsE2b } from "./callers.js";

test("a Bearer key is read as hostd reads it: any case of Bearer, any blanks; anything else is no key", () => {
  for (const h of ["Bearer k1", "bEaReR k1", "BEARER \t k1  ", "bearer  k1"]) assert.equal(bearerKey(h), "k1", h);
  for (const h of [undefined, "", "k1", "Basic k1", "Bearer", "Bearer k1 k2", "Bearerk1"]) assert.equal(bearerKey(h), undefined, String(h));
});

test("one key is one caller however its headers are spelt; /v1 ignores X-API-Key as hostd does", () => {
  const same = [
    callerOf({ authorization: "Bearer k1" }, false),
    callerOf({ authorization: "bEaReR   k1 ", xApiKey: "junk-1" }, false),
    callerOf({ authorization: "BEARER\tk1", xApiKey: "junk-2" }, false),
    callerOf({ xApiKey: "k1" }, true),
    callerOf({ xApiKey: "k1", authorization: "Bearer junk" }, true),
    callerOf({ authorization: "bearer k1" }, true),
  ];
  assert.deepEqual(new Set(same), new Set(["key k1"]));
  assert.equal(callerOf({ xApiKey: "k1" }, false), undefined, "hostd does not read X-API-Key off E2B's paths");
  assert.equal(callerOf({ authorization: "Basic k1" }, false), undefined);
  assert.equal(callerOf({ accessToken: "t1", xApiKey: "k1" }, true), "token t1", "a sandbox call with a token is made with the token's key");
  assert.equal(e2bApiKey("", "Bearer k2"), "k2", "an empty X-API-Key is none");
});

test("E2B's layer serves a sandbox named off /v1/ and the control plane's paths, never /v1/", () => {
  assert.equal(servedAsE2b("/files", "sbx_1"), true);
  assert.equal(servedAsE2b("/v1/sandboxes/sbx_1", "sbx_1"), false);
  assert.equal(servedAsE2b("/sandboxes", undefined), true);
  assert.equal(servedAsE2b("/v2/sandboxes/abc", undefined), true);
  assert.equal(servedAsE2b("/v1/sandboxes", undefined), false);
  assert.equal(servedAsE2b("/mcp", undefined), false);
});
