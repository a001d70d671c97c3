// The heads the fast path writes (pure functions): what goes on to an origin, what framing the
// caller's answer gets.
import assert from "node:assert/strict";
import { test } from "node:test";
import { answerHead, bodyless, forwardHead, passesVerbatim, requestFacts } from "./heads.js";
import type { ParsedHead } from "./llhttp.js";

function head(rawHeaders: string[], over: Partial<ParsedHead> = {}): ParsedHead {
  return { versionMajor: 1, versionMinor: 1, rawHeaders, method: "POST", url: "/v1/x", status: 0, statusMessage: "", upgrade: false, keepAlive: true, ...over };
}

test("request facts: chunked, a body, 100-continue, the first X-Podflare-Region, the Mcp-Session-Id and the caller's key", () => {
  const f = requestFacts(head(["Content-Length", "12", "Expect", "100-Continue", "X-Podflare-Region", "eu", "x-podflare-region", "us"]));
  assert.deepEqual(f, { chunked: false, hasBody: true, expectContinue: true, regionHeader: "eu", e2bSandbox: undefined, mcpSession: undefined, caller: undefined, hostMissing: true, e2b: false });
  assert.deepEqual(requestFacts(head(["Transfer-Encoding", "chunked"])), { chunked: true, hasBody: true, expectContinue: false, regionHeader: undefined, e2bSandbox: undefined, mcpSession: undefined, caller: undefined, hostMissing: true, e2b: false });
  const sid = `mcp_${"b".repeat(32)}`;
  assert.equal(requestFacts(head(["Mcp-Session-Id", ` ${sid} `])).mcpSession, sid);
  const id = `sbx_${"a".repeat(32)}`;
  assert.equal(requestFacts(head(["E2b-Sandbox-Id", id])).e2bSandbox, id);
  assert.equal(requestFacts(head(["X-Podflare-Region", " "])).regionHeader, undefined, "an empty header names no region");
  assert.equal(requestFacts(head(["Host", `49983-${id}.e2b.example`])).e2bSandbox, id);
  assert.equal(requestFacts(head(["Content-Length", "0"])).hasBody, false);
  assert.equal(requestFacts(head(["Host", "e"])).hasBody, false);
  // The caller is the key hostd authenticates, however it is spelt (outside tester tn).
  assert.equal(requestFacts(head(["X-API-Key", "junk", "Authorization", "bEaReR  k1 "])).caller, "key k1", "/v1: the Bearer key; X-API-Key is not read there");
  assert.equal(requestFacts(head(["X-Api-Key", "k2"])).caller, undefined, "/v1 with only X-API-Key: no key hostd takes");
  assert.equal(requestFacts(head(["X-Api-Key", "k2", "Authorization", "Bearer junk"], { url: "/sandboxes?x=1" })).caller, "key k2", "E2B's API: X-API-Key first");
  assert.equal(requestFacts(head(["E2b-Sandbox-Id", id, "X-Access-Token", "", "E2B-Traffic-Access-Token", "t1", "X-API-Key", "k2"], { url: "/files" })).caller, "token t1", "a sandbox call: its first token that is not empty");
});

test("the head sent on: hop-by-hop and Expect dropped, X-Forwarded-For appended, names kept as written", () => {
  const h = head(["Host", "edge.example", "Connection", "keep-alive", "Keep-Alive", "timeout=5", "TE", "trailers", "Expect", "100-continue", "X-Forwarded-For", "203.0.113.9", "Authorization", "Bearer k", "Content-Length", "2"]);
  const out = forwardHead(h, "/base/v1/x", false, "10.0.0.7", undefined, "origin:7070");
  assert.equal(out, "POST /base/v1/x HTTP/1.1\r\nHost: edge.example\r\nAuthorization: Bearer k\r\nContent-Length: 2\r\nx-forwarded-for: 203.0.113.9, 10.0.0.7\r\n\r\n");
  // To the edge's own server: its X-Forwarded-For is left as the caller sent it (the server adds the caller).
  const inner = forwardHead(h, "/v1/x", false, undefined, undefined, "localhost");
  assert.match(inner, /\r\nX-Forwarded-For: 203\.0\.113\.9\r\n/);
  assert.equal(inner.match(/x-forwarded-for/gi)?.length, 1);
  // A chunked body is re-chunked; a held body's length replaces the caller's.
  assert.match(forwardHead(head(["Transfer-Encoding", "chunked"]), "/v1/x", true, "1.2.3.4", undefined, "o"), /transfer-encoding: chunked\r\n\r\n$/);
  const held = forwardHead(h, "/v1/x", false, "1.2.3.4", 17, "o");
  assert.doesNotMatch(held, /Content-Length: 2/);
  assert.match(held, /content-length: 17\r\n\r\n$/);
  // An HTTP/1.0 request without Host goes on as HTTP/1.1, which needs one: the origin's.
  const v10 = forwardHead(head([], { versionMinor: 0, method: "GET" }), "/v1/healthz", false, "1.2.3.4", undefined, "origin:7070");
  assert.equal(v10, "GET /v1/healthz HTTP/1.1\r\nhost: origin:7070\r\nx-forwarded-for: 1.2.3.4\r\n\r\n");
  assert.equal(out.match(/host:/gi)?.length, 1, "a Host the caller sent is kept, not doubled");
});

test("the answer's framing: the origin's length kept; else chunked for HTTP/1.1, the close for HTTP/1.0", () => {
  const withLength = answerHead(head(["Content-Length", "5", "Connection", "keep-alive", "Keep-Alive", "timeout=65"], { status: 200, statusMessage: "OK" }), { noBody: false, callerHttp11: true, callerKeepAlive: true });
  assert.deepEqual(withLength, { head: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", chunk: false, close: false });
  const chunked = answerHead(head(["Transfer-Encoding", "chunked"], { status: 200, statusMessage: "OK" }), { noBody: false, callerHttp11: true, callerKeepAlive: true });
  assert.deepEqual(chunked, { head: "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n", chunk: true, close: false });
  const old = answerHead(head([], { status: 200, statusMessage: "OK" }), { noBody: false, callerHttp11: false, callerKeepAlive: true });
  assert.deepEqual(old, { head: "HTTP/1.1 200 OK\r\nconnection: close\r\n\r\n", chunk: false, close: true });
  const bye = answerHead(head(["Content-Length", "0"], { status: 204, statusMessage: "No Content" }), { noBody: true, callerHttp11: true, callerKeepAlive: false });
  assert.equal(bye.close, true);
  assert.match(bye.head, /connection: close\r\n\r\n$/);
});

test("bodyless answers: HEAD, 204, 304 and 1xx", () => {
  assert.equal(bodyless(200, "HEAD"), true);
  assert.equal(bodyless(204, "GET"), true);
  assert.equal(bodyless(304, "GET"), true);
  assert.equal(bodyless(103, "GET"), true);
  assert.equal(bodyless(200, "GET"), false);
});

test("an answer passes byte for byte only when its hop-by-hop headers hold for the caller and its body is framed", () => {
  const answer = (rawHeaders: string[], over: Partial<ParsedHead> = {}) => head(rawHeaders, { status: 200, statusMessage: "OK", ...over });
  const idleMs = 120_000;
  // hostd's usual answers.
  assert.equal(passesVerbatim(answer(["Content-Type", "application/json", "Connection", "keep-alive", "Keep-Alive", "timeout=65", "Content-Length", "2"]), idleMs), true);
  assert.equal(passesVerbatim(answer(["Connection", "keep-alive", "Keep-Alive", "timeout=65, max=1000", "Transfer-Encoding", "chunked"]), idleMs), true);
  assert.equal(passesVerbatim(answer(["Connection", "close", "Content-Length", "0"]), idleMs), true);
  assert.equal(passesVerbatim(answer([], { status: 204, statusMessage: "No Content" }), idleMs), true);
  // A keep-alive hint longer than the edge keeps an idle caller would be a broken promise.
  assert.equal(passesVerbatim(answer(["Keep-Alive", "timeout=121", "Content-Length", "2"]), idleMs), false);
  assert.equal(passesVerbatim(answer(["Keep-Alive", "timeout=5", "Content-Length", "2"]), 600), false);
  // Other hop-by-hop terms, other codings, a body that runs to the close, HTTP/1.0, interim.
  assert.equal(passesVerbatim(answer(["Connection", "keep-alive, x-private", "Content-Length", "2"]), idleMs), false);
  assert.equal(passesVerbatim(answer(["Trailer", "x-sum", "Transfer-Encoding", "chunked"]), idleMs), false);
  assert.equal(passesVerbatim(answer(["Transfer-Encoding", "gzip, chunked"]), idleMs), false);
  assert.equal(passesVerbatim(answer(["Content-Type", "text/plain"]), idleMs), false);
  assert.equal(passesVerbatim(answer(["Content-Length", "2"], { versionMinor: 0 }), idleMs), false);
  assert.equal(passesVerbatim(answer([], { status: 103, statusMessage: "Early Hints" }), idleMs), false);
});
