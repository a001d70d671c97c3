import { test } from "node:test";
import assert from "node:assert/strict";
import { PodflareError } from "@podflare/protocol";
import { parsePort, requestHeaders, responseHeaders, scopedCookie, upstreamTarget } from "./proxy-headers.js";

const id = "sbx_0123456789abcdef0123456789abcdef";
const info = { remoteAddress: "10.0.0.9", port: 8000, prefix: `/v1/sandboxes/${id}/ports/8000` };

function asObject(raw: string[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (let i = 0; i < raw.length; i += 2) (out[raw[i]!.toLowerCase()] ??= []).push(raw[i + 1]!);
  return out;
}

test("ports: integers 1..65535 only, anything else is invalid_port", () => {
  assert.equal(parsePort("1"), 1);
  assert.equal(parsePort("65535"), 65535);
  assert.equal(parsePort("08000"), 8000);
  for (const bad of ["", "0", "65536", "-1", "1.5", "8e3", "0x50", " 80", "123456"]) {
    assert.throws(() => parsePort(bad), (e: unknown) => e instanceof PodflareError && e.code === "invalid_port", bad);
  }
});

test("the target inside drops the prefix and keeps the rest and the query string as sent", () => {
  const p = `/v1/sandboxes/${id}/ports/8000`;
  assert.equal(upstreamTarget(`${p}/a/b%20c?x=1&y=%2F`), "/a/b%20c?x=1&y=%2F");
  assert.equal(upstreamTarget(`${p}/`), "/");
  assert.equal(upstreamTarget(p), "/");
  assert.equal(upstreamTarget(`${p}?q=1`), "/?q=1");
  assert.equal(upstreamTarget(`${p}//double`), "//double");
});

test("request headers: no API key, no hop-by-hop, Host of the port, X-Forwarded-* added", () => {
  const raw = [
    "Authorization", "Bearer pf_secret",
    "X-Api-Key", "pf_secret",
    "X-Podflare-Key", "pf_secret",
    "Proxy-Authorization", "Basic x",
    "Host", "hostd.example:7070",
    "Connection", "keep-alive, X-Drop-Me",
    "X-Drop-Me", "1",
    "Keep-Alive", "timeout=5",
    "Transfer-Encoding", "chunked",
    "TE", "trailers",
    "Upgrade", "h2c",
    "Expect", "100-continue",
    "X-Forwarded-For", "1.2.3.4",
    "X-Forwarded-Proto", "https",
    "Cookie", "a=1",
    "Content-Type", "text/plain",
    "X-Multi", "1",
    "X-Multi", "2",
  ];
  const out = requestHeaders(raw, info);
  assert.ok(!out.some((v) => v.includes("pf_secret")), "the key must not be forwarded");
  const h = asObject(out);
  for (const gone of ["authorization", "x-api-key", "x-podflare-key", "proxy-authorization", "keep-alive", "transfer-encoding", "te", "upgrade", "expect", "x-drop-me"]) {
    assert.equal(h[gone], undefined, gone);
  }
  assert.deepEqual(h["host"], ["localhost:8000"]);
  assert.deepEqual(h["connection"], ["close"]);
  assert.deepEqual(h["x-forwarded-for"], ["1.2.3.4, 10.0.0.9"]);
  assert.deepEqual(h["x-forwarded-proto"], ["http"]);
  assert.deepEqual(h["x-forwarded-host"], ["hostd.example:7070"]);
  assert.deepEqual(h["x-forwarded-prefix"], [info.prefix]);
  assert.deepEqual(h["cookie"], ["a=1"]);
  assert.deepEqual(h["content-type"], ["text/plain"]);
  assert.deepEqual(h["x-multi"], ["1", "2"]);
});

test("an upgrade keeps Upgrade and says Connection: Upgrade; the WebSocket headers pass", () => {
  const raw = ["Connection", "Upgrade", "Upgrade", "websocket", "Sec-WebSocket-Key", "abc", "Sec-WebSocket-Version", "13", "Authorization", "Bearer k"];
  const h = asObject(requestHeaders(raw, { ...info, upgrade: "websocket" }));
  assert.deepEqual(h["connection"], ["Upgrade"]);
  assert.deepEqual(h["upgrade"], ["websocket"]);
  assert.deepEqual(h["sec-websocket-key"], ["abc"]);
  assert.equal(h["authorization"], undefined);
});

test("response headers: hop-by-hop ones dropped, repeated ones (Set-Cookie) kept, each cookie scoped to the port's mount", () => {
  const prefix = "/v1/sandboxes/sbx_1/ports/8000";
  const h = asObject(responseHeaders([
    "Set-Cookie", "a=1", "Set-Cookie", "b=2; Path=/app; Domain=127.0.0.1; HttpOnly; Max-Age=31536000", "Connection", "keep-alive, X-Hop", "X-Hop", "1",
    "Transfer-Encoding", "chunked", "Keep-Alive", "timeout=5", "Content-Type", "text/html",
  ], prefix));
  assert.deepEqual(h["set-cookie"], [`a=1; Path=${prefix}/`, `b=2; Path=${prefix}/app; HttpOnly; Max-Age=31536000`]);
  assert.deepEqual(h["content-type"], ["text/html"]);
  for (const gone of ["connection", "x-hop", "transfer-encoding", "keep-alive"]) assert.equal(h[gone], undefined, gone);
});

test("a cookie's Path goes under the mount whatever it was; its Domain never survives", () => {
  const p = "/v1/sandboxes/sbx_1/ports/3000";
  assert.equal(scopedCookie("s=x; path=/", p), `s=x; Path=${p}/`);
  assert.equal(scopedCookie("s=x; Path", p), `s=x; Path=${p}/`);
  assert.equal(scopedCookie("s=x; Path=rel; domain=.evil.example; Secure", p), `s=x; Path=${p}/rel; Secure`);
  assert.equal(scopedCookie("s=x;Path=/v1/keys", p), `s=x; Path=${p}/v1/keys`, "never above the mount");
});
