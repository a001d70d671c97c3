// Who is calling: Bearer keys from the key store, from PODFLARE_API_KEYS, or the admin key.
// 401 bodies are exactly Podflare's. With no key anywhere and a loopback bind, auth is off and
// every request is the local owner.
import crypto from "node:crypto";
import type { IncomingMessage } from "node:http";
import { PodflareError } from "@podflare/protocol";
import { hashKey, type KeyStore } from "./keys.js";
import type { TierName } from "./tiers.js";

export const LOCAL_OWNER = "local";

export interface Principal {
  /** Owns the sandboxes and Spaces this caller creates. */
  owner: string;
  tier: TierName;
  admin: boolean;
}

export interface AuthOptions {
  keyStore: KeyStore;
  /** Plain keys from PODFLARE_API_KEYS, all of tier `envTier`. */
  envKeys: string[];
  envTier: TierName;
  /** PODFLARE_ADMIN_KEY: may manage keys; owns nothing special otherwise. */
  adminKey?: string;
  /** Tier of the local owner when auth is off. */
  localTier: TierName;
  /** PODFLARE_AUTH_DISABLED=1: never ask for a key. */
  disabled: boolean;
}

export interface Authenticator {
  /** Whether requests must carry a key right now (keys may be created while hostd runs). */
  enabled(): boolean;
  principal(req: IncomingMessage): Principal;
}

export function createAuthenticator(opts: AuthOptions): Authenticator {
  const envHashes = new Map(opts.envKeys.map((k) => [hashKey(k), `key_${hashKey(k).slice(0, 16)}`]));
  const adminHash = opts.adminKey ? hashKey(opts.adminKey) : null;
  let storedKeys = { count: 0, at: 0 };
  const storedKeyCount = () => {
    const now = Date.now();
    if (now - storedKeys.at > 1000) storedKeys = { count: opts.keyStore.count(), at: now };
    return storedKeys.count;
  };
  const enabled = () => !opts.disabled && (envHashes.size > 0 || adminHash !== null || storedKeyCount() > 0);

  return {
    enabled,
    principal(req) {
      if (!enabled()) return { owner: LOCAL_OWNER, tier: opts.localTier, admin: true };
      const header = req.headers.authorization;
      const m = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
      if (!m) throw new PodflareError("unauthorized", "missing Authorization: Bearer <key>");
      const key = m[1]!;
      const h = hashKey(key);
      if (adminHash && crypto.timingSafeEqual(Buffer.from(adminHash), Buffer.from(h))) {
        return { owner: "admin", tier: "enterprise", admin: true };
      }
      const envOwner = envHashes.get(h);
      if (envOwner) return { owner: envOwner, tier: opts.envTier, admin: false };
      const stored = opts.keyStore.verify(key);
      if (stored) return { owner: stored.id, tier: stored.tier, admin: stored.admin };
      throw new PodflareError("unauthorized", "invalid api key");
    },
  };
}
