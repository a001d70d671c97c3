// What the port proxy sends on and hands back: the path inside the sandbox, and the headers
// with hop-by-hop ones dropped. The caller's API key never reaches the sandbox, whose code is
// hostile. Pure functions, unit-tested beside this file.
import { PodflareError } from "@podflare/protocol";

/** The methods the proxy serves (others answer 405 on a port URL). */
export const PROXY_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] as const;

/** `/v1/sandboxes/:id/ports/:port` and whatever follows it. */
export const PORT_ROUTE = /^\/v1\/sandboxes\/([^/?#]+)\/ports\/([^/?#]*)([/?#].*)?$/s;

// RFC 9110 section 7.6.1, plus the non-standard ones still seen in the wild.
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "proxy-authenticate",
  "proxy-authorization",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
]);

/** Credentials meant for hostd: never sent into a sandbox. */
export function isPodflareCredential(lowerName: string): boolean {
  return lowerName === "authorization" || lowerName === "x-api-key" || lowerName.startsWith("x-podflare-");
}

export function parsePort(raw: string): number {
  if (!/^[0-9]{1,5}$/.test(raw) || Number(raw) < 1 || Number(raw) > 65535) {
    throw new PodflareError("invalid_port", `port ${JSON.stringify(raw)} is not valid; use an integer from 1 to 65535, as in /v1/sandboxes/:id/ports/8000/`);
  }
  return Number(raw);
}

/**
 * The request target inside the sandbox: the raw URL with the `/v1/sandboxes/:id/ports/:port`
 * prefix taken off, query string kept as sent. Always starts with `/`.
 */
export function upstreamTarget(rawUrl: string): string {
  const m = PORT_ROUTE.exec(rawUrl);
  const rest = m?.[3] ?? "/";
  const noFragment = rest.split("#")[0]!;
  return noFragment.startsWith("/") ? noFragment : `/${noFragment}`;
}

/** The prefix the app is mounted under, for X-Forwarded-Prefix. */
export function mountPrefix(id: string, port: number): string {
  return `/v1/sandboxes/${id}/ports/${port}`;
}

/** Names listed in Connection headers: hop-by-hop too, for this hop only. */
function connectionTokens(rawHeaders: string[]): Set<string> {
  const out = new Set<string>();
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (rawHeaders[i]!.toLowerCase() !== "connection") continue;
    for (const t of rawHeaders[i + 1]!.split(",")) if (t.trim()) out.add(t.trim().toLowerCase());
  }
  return out;
}

export interface ForwardInfo {
  /** Address of the caller as hostd saw it. */
  remoteAddress: string;
  port: number;
  prefix: string;
  /** A WebSocket (or other) upgrade: keep Upgrade and say Connection: Upgrade. */
  upgrade?: string;
}

/** Request headers for the server inside, in rawHeaders form (name, value, name, value…). */
export function requestHeaders(rawHeaders: string[], info: ForwardInfo): string[] {
  const listed = connectionTokens(rawHeaders);
  const out: string[] = [];
  let forwardedFor: string | undefined;
  let host: string | undefined;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    const value = rawHeaders[i + 1]!;
    const lower = name.toLowerCase();
    if (lower === "host") {
      host ??= value;
      continue;
    }
    if (lower === "x-forwarded-for") {
      forwardedFor = forwardedFor === undefined ? value : `${forwardedFor}, ${value}`;
      continue;
    }
    if (HOP_BY_HOP.has(lower) || listed.has(lower) || isPodflareCredential(lower)) continue;
    if (lower === "expect" || lower.startsWith("x-forwarded-")) continue;
    out.push(name, value);
  }
  out.push("Host", `localhost:${info.port}`);
  out.push("X-Forwarded-For", forwardedFor ? `${forwardedFor}, ${info.remoteAddress}` : info.remoteAddress);
  out.push("X-Forwarded-Proto", "http");
  if (host !== undefined) out.push("X-Forwarded-Host", host);
  out.push("X-Forwarded-Prefix", info.prefix);
  if (info.upgrade !== undefined) out.push("Connection", "Upgrade", "Upgrade", info.upgrade);
  else out.push("Connection", "close"); // one upstream connection per request
  return out;
}

/**
 * Response headers for the caller, in rawHeaders form: hop-by-hop ones dropped, and each
 * cookie the server sets scoped to its own mount (`prefix`).
 */
export function responseHeaders(rawHeaders: string[], prefix: string): string[] {
  const listed = connectionTokens(rawHeaders);
  const out: string[] = [];
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const lower = rawHeaders[i]!.toLowerCase();
    if (HOP_BY_HOP.has(lower) || listed.has(lower)) continue;
    out.push(rawHeaders[i]!, lower === "set-cookie" ? scopedCookie(rawHeaders[i + 1]!, prefix) : rawHeaders[i + 1]!);
  }
  return out;
}

/**
 * A cookie a sandbox's server sets, kept under its own port URL: its Path put below `prefix`,
 * its Domain dropped. Left as set, a `Path=/` cookie went with every request to hostd's origin
 * (the dashboard, the API, other tenants' port URLs): a sandbox could fill them up to 431
 * (a year-long cookie bomb against the dashboard) or read another sandbox's cookies.
 */
export function scopedCookie(setCookie: string, prefix: string): string {
  const [pair, ...attrs] = setCookie.split(";");
  let path = "/";
  const kept: string[] = [];
  for (const a of attrs) {
    const eq = a.indexOf("=");
    const name = (eq < 0 ? a : a.slice(0, eq)).trim().toLowerCase();
    if (name === "path") path = eq < 0 ? "/" : a.slice(eq + 1).trim() || "/";
    else if (name !== "domain") kept.push(a.trim());
  }
  const under = `${prefix}${path.startsWith("/") ? path : `/${path}`}`;
  return [pair!.trim(), `Path=${under}`, ...kept].join("; ");
}
