// Bearer-key authentication (DESIGN.md section 6). Keys are compared by hash, so neither
// timing nor logs reveal them; the owner of a request is derived from its key's hash.
import crypto from "node:crypto";
import type { IncomingMessage } from "node:http";
import { PodflareError } from "@podflare/protocol";

export const LOCAL_OWNER = "local";

function hashKey(key: string): Buffer {
  return crypto.createHash("sha256").update(key).digest();
}

export interface Authenticator {
  readonly enabled: boolean;
  /** Returns the owner id of the request, or throws 401. */
  owner(req: IncomingMessage): string;
}

export function createAuthenticator(keys: string[], enabled: boolean): Authenticator {
  const hashes = keys.map(hashKey);
  return {
    enabled,
    owner(req) {
      if (!enabled) return LOCAL_OWNER;
      const header = req.headers.authorization;
      const m = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
      if (!m) throw new PodflareError("unauthorized", "missing Authorization: Bearer <key>");
      const h = hashKey(m[1]!);
      const match = hashes.find((k) => crypto.timingSafeEqual(k, h));
      if (!match) throw new PodflareError("unauthorized", "invalid api key");
      return `key_${match.toString("hex").slice(0, 16)}`;
    },
  };
}
