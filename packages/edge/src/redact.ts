// Keys never reach the edge's log: header values that carry credentials, and key-looking
// query parameters, are replaced before a line is written.
// E2B's access tokens are credentials too: each opens a sandbox on its own (hostd e2b/access-token.ts).
const secretHeaders = new Set(["authorization", "x-api-key", "proxy-authorization", "cookie", "x-access-token", "e2b-traffic-access-token"]);

/** Headers for a log line, credentials replaced by "[redacted]". */
export function redactHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined) continue;
    out[k] = secretHeaders.has(k.toLowerCase()) ? "[redacted]" : Array.isArray(v) ? v.join(", ") : v;
  }
  return out;
}

/** A path for a log line, with key/token query values replaced. */
export function redactPath(path: string): string {
  return path.replace(/([?&](?:api[_-]?key|key|token|access[_-]?token)=)[^&]*/gi, "$1[redacted]");
}

/** Last guard on every line: a bearer token or an X-API-Key value that slipped into a message. */
export function redactLine(line: string): string {
  return line
    .replace(/(bearer\s+)[^\s",;]+/gi, "$1[redacted]")
    .replace(/((?:x-api-key|x-access-token|e2b-traffic-access-token)["']?\s*[:=]\s*["']?)[^\s",;'"]+/gi, "$1[redacted]");
}
