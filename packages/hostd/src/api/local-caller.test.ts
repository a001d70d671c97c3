// Which requests an auth-off loopback hostd takes as local (pure header logic).
import { test } from "node:test";
import assert from "node:assert/strict";
import { foreignCaller } from "./local-caller.js";

test("local programs and the host's own pages pass; other origins and names are foreign", () => {
  for (const h of [{}, { host: "127.0.0.1:7070" }, { host: "localhost" }, { host: "[::1]:7070" }, { host: "app.localhost:7070" }, { host: "49983-sbx_0123456789abcdef0123456789abcdef.e2b.local" }, { origin: "http://127.0.0.1:7070", host: "127.0.0.1:7070" }, { origin: "http://localhost:5173" }, { origin: "http://[::1]:7070" }]) {
    assert.equal(foreignCaller(h), undefined, JSON.stringify(h));
  }
  assert.equal(foreignCaller({ origin: "null" }), "Origin: null", "a data: page or a sandboxed frame");
  assert.equal(foreignCaller({ origin: "https://evil.example" }), "Origin: https://evil.example");
  assert.equal(foreignCaller({ origin: "http://127.0.0.1.evil.example" }), "Origin: http://127.0.0.1.evil.example");
  assert.equal(foreignCaller({ host: "evil.example:7070" }), "Host: evil.example:7070", "DNS rebinding: a name of the page's own");
  assert.equal(foreignCaller({ host: "10.0.0.5:7070" }), "Host: 10.0.0.5:7070");
  assert.equal(foreignCaller({ origin: ["http://127.0.0.1", "https://evil.example"] }), "Origin: http://127.0.0.1, https://evil.example");
});

test("E2B's Host form passes for its sandbox traffic only, never for the REST API's paths (DNS rebinding got the whole API)", () => {
  const host = "49983-sbx_00000000000000000000000000000000.attacker.example";
  for (const url of ["/files?path=/root/x", "/process.Process/Start", "/execute", "/health"]) assert.equal(foreignCaller({ host }, url), undefined, url);
  for (const url of ["/v1/sandboxes", "/v1/keys", "/v1", "http://hostd/v1/sandboxes"]) assert.equal(foreignCaller({ host }, url), `Host: ${host}`, url);
});
