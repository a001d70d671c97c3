// The last stored key of a hostd on a non-loopback bind may not be revoked: auth stays on there
// (DESIGN §11), so revoking it would lock every caller out. The API and the CLI both ask here.
import { PodflareError } from "@podflare/protocol";
import { KEY_PREFIX, type KeyStore } from "./keys.js";

export interface LastKeyGuard {
  /** Where the hostd the keys belong to listens. */
  host: string;
  /** Refuse to revoke the last stored key: a non-loopback bind with auth on and no env or admin key. */
  keep: boolean;
}

export function lastKeyGuard(o: { host: string; loopback: boolean; authDisabled: boolean; envKeys: number; adminKey: boolean }): LastKeyGuard {
  return { host: o.host, keep: !o.loopback && !o.authDisabled && o.envKeys === 0 && !o.adminKey };
}

/** Revokes a live key by id or value; throws not_found, or conflict when the guard keeps it. */
/** How a key id or a plain key is named in messages: a plain key by its display prefix only. */
export function shownKeyRef(idOrKey: string): string {
  return idOrKey.startsWith(KEY_PREFIX) ? `${idOrKey.slice(0, KEY_PREFIX.length + 4)}…` : idOrKey;
}

export function revokeKey(keys: KeyStore, idOrKey: string, guard: LastKeyGuard): void {
  const outcome = guard.keep ? keys.revokeUnlessLast(idOrKey) : keys.revoke(idOrKey) ? "revoked" : "not_found";
  if (outcome === "not_found") throw new PodflareError("not_found", `no live key ${shownKeyRef(idOrKey)}`);
  if (outcome === "last") {
    throw new PodflareError(
      "conflict",
      `${shownKeyRef(idOrKey)} is the last API key of a hostd listening on ${guard.host} (not loopback), where auth stays on: revoking it would lock every caller out. ` +
        "Create another key first (`podflare keys create` or POST /v1/keys), then revoke this one",
    );
  }
}
