// API keys in the metadata store: `pf_live_` + 40 random base62 characters, kept only as a
// SHA-256 hash with a short display prefix, a name, a tier, and created/last-used/revoked times.
import crypto from "node:crypto";
import type { KeyRecord, KeyRef, KeyTable } from "../store/store.js";
import type { TierName } from "./tiers.js";

export type { KeyRecord } from "../store/store.js";

export const KEY_PREFIX = "pf_live_";
const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

export function hashKey(key: string): string {
  return crypto.createHash("sha256").update(key).digest("hex");
}

function randomBase62(length: number): string {
  // Rejection sampling keeps every character equally likely.
  let out = "";
  while (out.length < length) {
    for (const byte of crypto.randomBytes(length * 2)) {
      if (byte < 248 && out.length < length) out += BASE62[byte % 62];
    }
  }
  return out;
}

/**
 * Characters that reorder or hide text around them (bidirectional controls, line and paragraph
 * separators): a name holding them shows one thing in `keys ls` and the dashboard and is
 * another ("Trojan Source").
 */
export const DISGUISING_CHARS = /[\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

/** Why `name` cannot name a key, or undefined. Control characters would reach operators' terminals through `keys ls`. */
export function keyNameProblem(name: string): string | undefined {
  if (name.length > 200) return "name must be at most 200 characters";
  if (/[\x00-\x1f\x7f-\x9f]/.test(name)) return "name must not hold control characters (newlines, tabs, escapes)";
  if (DISGUISING_CHARS.test(name)) return "name must not hold bidirectional controls or line separators (U+202A–202E, U+2066–2069, U+200E/200F, U+061C, U+2028/2029)";
  return undefined;
}

/** A stored name as a terminal should show it: what could disguise it (names kept from before the check) escaped. */
export function shownKeyName(name: string): string {
  return name.replace(new RegExp(`[\\x00-\\x1f\\x7f-\\x9f]|${DISGUISING_CHARS.source}`, "g"), (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

export class KeyStore {
  constructor(private readonly table: KeyTable) {}

  /** Creates a key; the plain key is returned this once and never stored. */
  create(opts: { name: string; tier: TierName; admin?: boolean }): { key: string; record: KeyRecord } {
    const key = KEY_PREFIX + randomBase62(40);
    const record: KeyRecord = {
      id: `key_${crypto.randomBytes(6).toString("hex")}`,
      name: opts.name,
      tier: opts.tier,
      admin: opts.admin === true,
      prefix: key.slice(0, KEY_PREFIX.length + 4),
      createdAt: Date.now(),
      lastUsedAt: null,
      revokedAt: null,
    };
    this.table.insert({ ...record, hash: hashKey(key) });
    return { key, record };
  }

  /** The live (not revoked) key with this plain value, or undefined. Read on every request, so a revocation holds at once. */
  verify(key: string): KeyRecord | undefined {
    const record = this.table.byHash(hashKey(key));
    if (!record || record.revokedAt !== null) return undefined;
    const now = Date.now();
    // last_used_at to the minute: one write a minute per key, not one per request. A write that
    // fails (the state dir's disk full) loses the timestamp, never the caller's request.
    if (record.lastUsedAt === null || now - record.lastUsedAt > 60_000) {
      try {
        this.table.setLastUsed(record.id, now);
      } catch {
        /* kept for the next request */
      }
    }
    return record;
  }

  list(): KeyRecord[] {
    return this.table.list();
  }

  get(id: string): KeyRecord | undefined {
    return this.table.get(id);
  }

  /** Revokes by id or by the plain key; true when a live key was revoked. */
  revoke(idOrKey: string): boolean {
    return this.table.revoke(refOf(idOrKey), Date.now());
  }

  /**
   * Revokes like revoke(), but refuses ("last") when it would leave no live stored key, checked
   * and done atomically so two revokes at once cannot both pass.
   */
  revokeUnlessLast(idOrKey: string): "revoked" | "not_found" | "last" {
    return this.table.revokeUnlessLast(refOf(idOrKey), Date.now());
  }

  /** The ids of every revoked key (a revoked key's id is the owner of what it made). */
  revokedIds(): string[] {
    return this.table.revokedIds();
  }

  /** Whether any live key exists: cheap, run per request while auth waits for the first key. */
  hasLiveKeys(): boolean {
    return this.table.hasLive();
  }

  count(): number {
    return this.table.countLive();
  }
}

/** An id or a plain key: the store matches either the id or the key's hash. */
const refOf = (idOrKey: string): KeyRef => ({ id: idOrKey, hash: hashKey(idOrKey) });
