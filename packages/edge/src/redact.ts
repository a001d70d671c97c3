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

// A key by its shape, wherever a client put it (another header, a path segment, any query
// parameter): pf_live_ / pf_admin_ / pf_test_ and the rest of the token.
const KEY_SHAPE = /\bpf_(?:live|admin|test)_[A-Za-z0-9_]+/g;

/** Last guard on every line: a bearer token, an X-API-Key value or anything shaped like a key that slipped into a message. */
export function redactLine(line: string): string {
  return line
    .replace(KEY_SHAPE, "[redacted]")
    .replace(/(bearer\s+)[^\s",;]+/gi, "$1[redacted]")
    .replace(/((?:x-api-key|x-access-token|e2b-traffic-access-token)["']?\s*[:=]\s*["']?)[^\s",;'"]+/gi, "$1[redacted]");
}
