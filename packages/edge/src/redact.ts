// Keys never reach the edge's log: header values that carry credentials, and key-looking
// query parameters, are replaced before a line is written.
// E2B's access tokens are credentials too: each opens a sandbox on its own (hostd e2b/access-token.ts).
const secretHeaders = new Set(["authorization", "x-api-key", "proxy-authorization", "cookie", "set-cookie", "x-access-token", "e2b-traffic-access-token"]);
// Headers hostd does not take as credentials but a client or an app behind the port proxy may
// (outside tester tr): anything whose name says auth, token, key, secret or password.
const SECRET_HEADER_NAME = /auth|token|key|secret|passw|session|credential/i;
// Query parameters likewise, by name (percent-encoded names are decoded first).
const SECRET_PARAM = /auth|token|key|secret|passw|session|credential|signature|sig$/i;

/** Headers for a log line, credentials replaced by "[redacted]". */
export function redactHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined) continue;
    const lower = k.toLowerCase();
    const value = Array.isArray(v) ? v.join(", ") : v;
    out[k] = secretHeaders.has(lower) || SECRET_HEADER_NAME.test(lower) ? "[redacted]" : lower === "referer" ? redactPath(value) : value;
  }
  return out;
}

/** A path for a log line, with key/token query values replaced. */
export function redactPath(path: string): string {
  const q = path.indexOf("?");
  if (q === -1) return path;
  const params = path.slice(q + 1).split("&").map((p) => {
    const eq = p.indexOf("=");
    if (eq === -1) return p;
    let name = p.slice(0, eq);
    try {
      name = decodeURIComponent(name.replace(/\+/g, " "));
    } catch {
      /* a bad escape: judged as written */
    }
    return SECRET_PARAM.test(name) ? `${p.slice(0, eq)}=[redacted]` : p;
  });
  return `${path.slice(0, q)}?${params.join("&")}`;
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
