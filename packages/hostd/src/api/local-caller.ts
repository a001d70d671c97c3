// With auth off on a loopback bind, whoever reaches the API is the local admin (docs/security.md,
// "Auth"). A web page the operator has open is not a local program, yet the browser reaches
// 127.0.0.1 for it: a form POST from any origin needs no CORS preflight, and DNS rebinding points
// a name of the page's own at 127.0.0.1. Both show in the request, as a foreign Origin or Host,
// and are refused: a browser can reach such a hostd only from a page it serves itself (the
// dashboard).

import { requestUrl } from "./request-url.js";

// E2B's sandbox traffic may name its sandbox in the Host (`49983-sbx_<id>.<domain>`). Such a
// Host is let through for that traffic only: every path but the REST API's (/v1/…) is then the
// named sandbox's envd (e2b/index.ts), which a page cannot reach without the sandbox's id. On
// /v1/ paths it gave a rebinding page the whole API: lists, files, exec, keys (outside tester tm).
const E2B_TRAFFIC_HOST = /^\d{1,5}-sbx_[0-9a-f]{32}\./i;

/** What makes the request a foreign one (a header to name in the refusal), or undefined. */
export function foreignCaller(headers: { origin?: string | string[]; host?: string }, rawUrl?: string): string | undefined {
  const origin = headers.origin;
  if (origin !== undefined) {
    const one = Array.isArray(origin) ? origin.join(", ") : origin;
    if (Array.isArray(origin) || !loopbackOrigin(one)) return `Origin: ${one.slice(0, 200)}`;
  }
  const host = headers.host;
  if (host !== undefined && !loopbackName(hostnameOf(host)) && !(E2B_TRAFFIC_HOST.test(host) && sandboxTraffic(rawUrl))) return `Host: ${host.slice(0, 200)}`;
  return undefined;
}

/** A path E2B's layer serves as the Host's sandbox's traffic: anything but the REST API's. */
function sandboxTraffic(rawUrl: string | undefined): boolean {
  const path = requestUrl(rawUrl).pathname;
  return path !== "/v1" && !path.startsWith("/v1/");
}

function loopbackOrigin(origin: string): boolean {
  try {
    const u = new URL(origin);
    return (u.protocol === "http:" || u.protocol === "https:") && loopbackName(u.hostname.replace(/^\[|\]$/g, ""));
  } catch {
    return false; // "null" (a data: URL, a sandboxed frame) and anything unparseable
  }
}

/** The name of a Host header without its port (and an IPv6 literal without brackets). */
function hostnameOf(host: string): string {
  if (host.startsWith("[")) return host.slice(1, host.indexOf("]") >>> 0);
  const colon = host.lastIndexOf(":");
  return colon >= 0 ? host.slice(0, colon) : host;
}

function loopbackName(name: string): boolean {
  const n = name.toLowerCase();
  return n === "localhost" || n.endsWith(".localhost") || n === "::1" || /^127(\.\d{1,3}){3}$/.test(n) || /^::ffff:127(\.\d{1,3}){3}$/.test(n);
}
