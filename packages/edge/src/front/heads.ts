// The heads the front writes (pure, unit-tested): a request head for an origin or for the
// edge's own node:http server, and the answer's head for the caller. Framing headers are the
// front's to set: it re-chunks what it re-frames, and hop-by-hop headers stop here.
import { hopByHop } from "../origin-request.js";
import type { ParsedHead } from "./llhttp.js";
import { e2bSandboxOf } from "../route.js";
import { callerOf, servedAsE2b, type CallerHeaders } from "@podflare/protocol";

/** What the front needs from a request head, read in one pass. */
export interface RequestFacts {
  chunked: boolean;
  /** A body follows the head (chunked, or a content-length other than 0). */
  hasBody: boolean;
  expectContinue: boolean;
  regionHeader: string | undefined;
  /** The sandbox an E2B request names by header or Host (route.ts, e2bSandboxOf). */
  e2bSandbox: string | undefined;
  /** The Mcp-Session-Id header: routes an MCP call to its session's region. */
  mcpSession: string | undefined;
  /** Who calls: the key hostd will authenticate it with (callerOf; key-shares.ts), never logged. */
  caller: string | undefined;
  /** The head has no Host (or an empty one). */
  hostMissing: boolean;
  /** hostd would answer it in E2B's error shape (answer.ts, isE2bRequest). */
  e2b: boolean;
}

export function requestFacts(h: ParsedHead): RequestFacts {
  let chunked = false;
  let length = false;
  let expectContinue = false;
  let regionHeader: string | undefined;
  let e2bId: string | undefined;
  let host: string | undefined;
  let mcpSession: string | undefined;
  const who: CallerHeaders = {};
  const raw = h.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    if (name === "transfer-encoding") chunked = true; // llhttp accepts it only with chunked last
    else if (name === "content-length") length = raw[i + 1]!.trim() !== "0"; // llhttp refuses two
    else if (name === "expect") expectContinue ||= raw[i + 1]!.trim().toLowerCase() === "100-continue";
    // An empty X-Podflare-Region names no region (a merged list stays merged).
    else if (name === "x-podflare-region" && regionHeader === undefined) regionHeader = raw[i + 1]!.trim() || undefined;
    else if (name === "e2b-sandbox-id" && e2bId === undefined) e2bId = raw[i + 1];
    else if (name === "host" && host === undefined) host = raw[i + 1];
    else if (name === "mcp-session-id" && mcpSession === undefined) mcpSession = raw[i + 1]!.trim();
    else if (name === "authorization") who.authorization ??= raw[i + 1];
    else if (name === "x-api-key") who.xApiKey ??= raw[i + 1];
    // hostd takes the first of these two that is not empty.
    else if ((name === "x-access-token" || name === "e2b-traffic-access-token") && raw[i + 1] !== "") who.accessToken ??= raw[i + 1];
  }
  const e2bSandbox = e2bSandboxOf(e2bId, host);
  const e2b = servedAsE2b(h.url.split("?")[0]!, e2bSandbox);
  const caller = callerOf(who, e2b);
  return { chunked, hasBody: chunked || length, expectContinue, regionHeader, e2bSandbox, mcpSession, caller, hostMissing: !host, e2b };
}

/** host:port as a Host header names it (an IPv6 literal in brackets). */
export function hostPort(address: string | undefined, port: number | undefined): string {
  const a = address ?? "localhost";
  return `${a.includes(":") ? `[${a}]` : a}${port ? `:${port}` : ""}`;
}

/**
 * The Host a request without one gets on its way into the edge's own server, which forwards it
 * to origins: a loopback name, as the caller reached the edge directly.
 */
export const INNER_HOST = "localhost";

/**
 * The head sent on: hop-by-hop headers and Expect dropped (the front answered 100-continue
 * itself), a chunked body re-chunked (or, given `length`, a held body's length set), and for an origin the caller's address appended to
 * X-Forwarded-For (the edge's own server appends it itself, from the connection it is given),
 * and `hostIfNone` as the Host of a request that had none (an HTTP/1.0 caller's).
 */
export function forwardHead(h: ParsedHead, path: string, chunked: boolean, clientAddr: string | undefined, length: number | undefined, hostIfNone: string): string {
  let out = `${h.method} ${path} HTTP/1.1\r\n`;
  let prior = "";
  let host = false;
  const raw = h.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const lower = name.toLowerCase();
    host ||= lower === "host";
    if (hopByHop.has(lower) || lower === "expect" || (length !== undefined && lower === "content-length")) continue;
    if (lower === "x-forwarded-for" && clientAddr !== undefined) {
      prior += prior ? `, ${raw[i + 1]}` : raw[i + 1];
      continue;
    }
    out += `${name}: ${raw[i + 1]}\r\n`;
  }
  // An HTTP/1.0 caller may leave Host out; what goes on is HTTP/1.1, which must have one.
  if (!host) out += `host: ${hostIfNone}\r\n`;
  if (clientAddr !== undefined) out += `x-forwarded-for: ${prior ? `${prior}, ` : ""}${clientAddr}\r\n`;
  if (chunked) out += "transfer-encoding: chunked\r\n";
  if (length !== undefined) out += `content-length: ${length}\r\n`;
  return out + "\r\n";
}

/** A request head exactly as parsed (an upgrade handed to the edge's own server). */
export function verbatimHead(h: ParsedHead): string {
  let out = `${h.method} ${h.url} HTTP/${h.versionMajor}.${h.versionMinor}\r\n`;
  const raw = h.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) out += `${raw[i]}: ${raw[i + 1]}\r\n`;
  return out + "\r\n";
}

export interface AnswerFraming {
  /** The head to write to the caller. */
  head: string;
  /** Re-chunk the body (the origin's was chunked or ran to its close; the caller speaks 1.1). */
  chunk: boolean;
  /** Close the caller's connection after this answer. */
  close: boolean;
}

/**
 * The caller's answer head from the origin's: hop-by-hop headers dropped; the body framed by
 * the origin's Content-Length when it has one, else chunked (or, for an HTTP/1.0 caller, by
 * closing the connection).
 */
export function answerHead(h: ParsedHead, opts: { noBody: boolean; callerHttp11: boolean; callerKeepAlive: boolean }): AnswerFraming {
  let out = `HTTP/1.1 ${h.status} ${h.statusMessage}\r\n`;
  let hasLength = false;
  const raw = h.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const lower = name.toLowerCase();
    if (hopByHop.has(lower)) continue;
    if (lower === "content-length") hasLength = true;
    out += `${name}: ${raw[i + 1]}\r\n`;
  }
  let chunk = false;
  let close = !opts.callerKeepAlive;
  if (!opts.noBody && !hasLength) {
    if (opts.callerHttp11) {
      chunk = true;
      out += "transfer-encoding: chunked\r\n";
    } else close = true;
  }
  if (close) out += "connection: close\r\n";
  return { head: out + "\r\n", chunk, close };
}

/**
 * Whether the origin's answer can go to the caller byte for byte, so the front writes the bytes
 * it read instead of a head of its own (and a chunked body is not re-chunked): an HTTP/1.1
 * answer whose hop-by-hop headers hold for the caller's connection too, namely `Connection:
 * keep-alive` or `close` (the front then closes the caller's connection as well), `Keep-Alive:
 * timeout=N` with N no longer than the edge keeps an idle caller (a client that trusts the hint
 * never reuses a connection the edge closed), and chunked framing; the body framed by a length
 * or chunks (or absent). The caller must be an HTTP/1.1 keep-alive caller, not asking HEAD
 * (checked by the front).
 */
export function passesVerbatim(h: ParsedHead, idleTimeoutMs: number): boolean {
  if (h.versionMajor !== 1 || h.versionMinor !== 1 || h.status < 200) return false;
  // A body that runs to the origin's close cannot run to the close of the caller's connection.
  let framed = h.status === 204 || h.status === 304;
  const raw = h.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    if (name === "content-length") framed = true;
    if (!hopByHop.has(name)) continue;
    const value = raw[i + 1]!.trim().toLowerCase();
    if (name === "connection") {
      if (value !== "keep-alive" && value !== "close") return false;
    } else if (name === "keep-alive") {
      const m = /^timeout=(\d{1,6})(, *max=\d+)?$/.exec(value);
      if (!m || Number(m[1]) * 1000 > idleTimeoutMs) return false;
    } else if (name === "transfer-encoding" && value === "chunked") framed = true;
    else return false;
  }
  return framed;
}

/** A status whose answer never has a body. */
export function bodyless(status: number, method: string): boolean {
  return method === "HEAD" || status === 204 || status === 304 || (status >= 100 && status < 200);
}

// Bodies up to this size go out in the head's string: one latin1 string write copies the bytes
// once, where a Buffer for the head and one for head and body allocate and copy twice (~15 µs
// of a create's ~80 µs in the edge on an idle host, measured).
const INLINE_BODY_BYTES = 16 * 1024;

/** The head and a body in one write: a latin1 string (bytes as they are) for a small body. */
export function headWithBody(head: string, body: Buffer): string | Buffer {
  if (body.length === 0) return head;
  if (body.length <= INLINE_BODY_BYTES) return head + body.toString("latin1");
  return Buffer.concat([Buffer.from(head, "latin1"), body]);
}
