// Which key a request is made with, as hostd reads it: one rule for hostd and for the edge,
// which counts each key's calls (its share of connections to origins, its list bytes). A
// counter that read the headers its own way was a way around it: a throwaway X-API-Key before
// the real Authorization, or `bEaReR` spelt differently each time, made one key many callers
// (outside tester tn). Only a credential hostd accepts holds a call for long (a wrong one is
// answered 401 from the head), so the count follows what hostd authenticates.

/** The paths of E2B's control plane (hostd's E2B layer serves them; /v1/ is never one). */
export const E2B_CONTROL_PLANE_PATH = /^\/(?:v[2-9]\/)?(?:sandboxes|templates|snapshots|volumes|volumecontent|secrets|teams|nodes|access-tokens|api-keys)(?:\/|$)/;

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/** The key in an `Authorization: Bearer <key>` header, as hostd reads it; undefined otherwise. */
export function bearerKey(authorization: string | undefined): string | undefined {
  return authorization ? BEARER.exec(authorization)?.[1] : undefined;
}

/** The key an E2B call gives directly: `X-API-Key` (E2B's SDKs), else `Authorization: Bearer` (ours). */
export function e2bApiKey(xApiKey: string | undefined, authorization: string | undefined): string | undefined {
  return xApiKey ? xApiKey : bearerKey(authorization);
}

/** The headers a caller is told apart by (first of each, as Node keeps them). */
export interface CallerHeaders {
  authorization?: string;
  xApiKey?: string;
  /** X-Access-Token or E2B-Traffic-Access-Token: a sandbox's token, sealing a key the edge cannot read. */
  accessToken?: string;
}

/**
 * Who makes a request, for counting: `key <key>` for the key hostd will authenticate it with,
 * `token <token>` for an E2B sandbox call made with an access token, or undefined (no
 * credential hostd would take: the caller is its address). `e2b`: hostd's E2B layer serves the
 * request (a sandbox named by header or Host off /v1/, or a control-plane path).
 */
export function callerOf(h: CallerHeaders, e2b: boolean): string | undefined {
  if (!e2b) {
    const key = bearerKey(h.authorization);
    return key === undefined ? undefined : `key ${key}`;
  }
  if (h.accessToken) return `token ${h.accessToken}`;
  const key = e2bApiKey(h.xApiKey, h.authorization);
  return key === undefined ? undefined : `key ${key}`;
}

/** Whether hostd's E2B layer serves a request for `path` that names `e2bSandbox` (or none). */
export function servedAsE2b(path: string, e2bSandbox: string | undefined): boolean {
  return (e2bSandbox !== undefined && !path.startsWith("/v1/")) || E2B_CONTROL_PLANE_PATH.test(path);
}
