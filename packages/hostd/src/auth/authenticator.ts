// Who is calling: Bearer keys from the key store, from PODFLARE_API_KEYS, or the admin key.
// 401 bodies are exactly Podflare's. The auth mode is decided at start and only gets stricter
// (DESIGN §11): on a non-loopback bind it is on for hostd's whole life; on a loopback bind with
// no key anywhere it is off until the first stored key exists, then on for good.
import crypto from "node:crypto";
import type { IncomingMessage } from "node:http";
import { PodflareError, bearerKey } from "@podflare/protocol";
import { hashKey, type KeyRecord } from "./keys.js";
import type { TierName } from "./tiers.js";

export const LOCAL_OWNER = "local";

export interface Principal {
  /** Owns the sandboxes and Spaces this caller creates. */
  owner: string;
  tier: TierName;
  admin: boolean;
}

/** What the authenticator reads of the key store (a fake in unit tests). */
export interface KeyLookup {
  /** Whether any live stored key exists; asked once a request until auth is on. */
  hasLiveKeys(): boolean;
  verify(key: string): KeyRecord | undefined;
}

export interface AuthOptions {
  keyStore: KeyLookup;
  /** Plain keys from PODFLARE_API_KEYS, all of tier `envTier`. */
  envKeys: string[];
  envTier: TierName;
  /** PODFLARE_ADMIN_KEY: may manage keys; owns nothing special otherwise. */
  adminKey?: string;
  /** Tier of the local owner when auth is off. */
  localTier: TierName;
  /** PODFLARE_AUTH_DISABLED=1: never ask for a key. */
  disabled: boolean;
  /** Where the API listens, and whether that is a loopback address. */
  bind: { host: string; loopback: boolean };
}

export type AuthMode = "on" | "off" | "until-first-key";

export interface Authenticator {
  /** The mode chosen at start. */
  readonly mode: AuthMode;
  /** Whether requests must carry a key now. Goes from false to true at most once, never back. */
  enabled(): boolean;
  /** Auth is off on a loopback bind: only local programs may call (api/local-caller.ts). */
  localOnly(): boolean;
  principal(req: IncomingMessage): Principal;
}

/** Refusal to start: a non-loopback bind, no key anywhere, and auth not disabled on purpose. */
export class AuthStartError extends Error {}

export function createAuthenticator(opts: AuthOptions): Authenticator {
  const envHashes = new Map(opts.envKeys.map((k) => [hashKey(k), `key_${hashKey(k).slice(0, 16)}`]));
  const adminHash = opts.adminKey ? hashKey(opts.adminKey) : null;
  const mode = startMode(opts, envHashes.size > 0 || adminHash !== null);
  let on = mode === "on";
  // No cache: a key made by `podflare keys create` (another process, same SQLite) counts from
  // the very next request. Once on, the store is not asked again: revoking keys never opens it.
  const enabled = () => {
    if (!on && mode === "until-first-key" && opts.keyStore.hasLiveKeys()) on = true;
    return on;
  };

  return {
    mode,
    enabled,
    localOnly: () => opts.bind.loopback && !enabled(),
    principal(req) {
      if (!enabled()) return { owner: LOCAL_OWNER, tier: opts.localTier, admin: true };
      const key = bearerKey(req.headers.authorization);
      if (key === undefined) throw new PodflareError("unauthorized", "missing Authorization: Bearer <key>");
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

function startMode(opts: AuthOptions, envKeys: boolean): AuthMode {
  if (opts.disabled) return "off";
  if (envKeys || opts.keyStore.hasLiveKeys()) return "on";
  if (opts.bind.loopback) return "until-first-key";
  throw new AuthStartError(
    `refusing to listen on ${opts.bind.host} without API keys: set PODFLARE_API_KEYS, create one with ` +
      "`podflare keys create`, or set PODFLARE_AUTH_DISABLED=1 if the network in front of this host is trusted",
  );
}
