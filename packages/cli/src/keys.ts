// `podflare keys create --tier T --name N [--admin] | ls | revoke ID|KEY`: manages the API keys
// in the metadata store of PODFLARE_STATE_DIR directly (as root), so the first key needs no
// key. A running hostd sees changes from its next request. ls and revoke never create the store.
import { PodflareError } from "@podflare/protocol";
import { KeyStore, isLoopback, lastKeyGuard, loadConfig, openStore, revokeKey, shownKeyName, shownKeyRef, stateDirOwner, type LastKeyGuard } from "@podflare/hostd";
import { parseOrHelp, subcommand, type CommandSpec } from "./args.js";
import { createKey, createSpec } from "./keys-create.js";
import { missingStore } from "./state-dir.js";
import { formatTable } from "./table.js";

const keysUsage = `usage: podflare keys create --tier free|pro|scale|enterprise --name NAME [--admin]
       podflare keys ls
       podflare keys revoke ID|KEY

  The API keys in the metadata store of PODFLARE_STATE_DIR (default /var/lib/podflare), as root.
  podflare keys SUBCOMMAND --help: that subcommand's usage.`;

const lsSpec: CommandSpec = {
  usage: `usage: podflare keys ls

  Lists the stored keys (never the keys themselves: id, display prefix, tier, * for admin, name,
  created, last used, live or revoked). Fails when PODFLARE_STATE_DIR holds no store yet.`,
};

const revokeSpec: CommandSpec = {
  usage: `usage: podflare keys revoke ID|KEY

  Revokes a stored key, from hostd's next request. Refused for the last live key of a hostd on a
  non-loopback bind with no PODFLARE_API_KEYS or PODFLARE_ADMIN_KEY (every caller would be locked out).`,
  positionals: ["ID"],
};

/**
 * The last-key rule of the hostd these keys belong to: the running one's (from its lock file),
 * else the one this environment would start.
 */
export function guardFor(cfg: ReturnType<typeof loadConfig>): LastKeyGuard {
  const owner = stateDirOwner(cfg.stateDir);
  if (owner?.addr !== undefined) return { host: owner.addr.replace(/:\d+$/, ""), keep: owner.keepLastKey === true };
  return lastKeyGuard({ host: cfg.addr.host, loopback: isLoopback(cfg.addr.host), authDisabled: cfg.authDisabled, envKeys: cfg.apiKeys.length, adminKey: cfg.adminKey !== undefined });
}

export async function keysCommand(args: string[]): Promise<number> {
  const sub = subcommand(keysUsage, ["create", "ls", "revoke"], args);
  if (!sub) return 0;
  const spec = sub.name === "create" ? createSpec : sub.name === "ls" ? lsSpec : revokeSpec;
  const parsed = parseOrHelp(spec, sub.rest);
  if (!parsed) return 0;
  const cfg = loadConfig();
  if (sub.name === "create") return createKey(cfg, parsed);

  const missing = missingStore(cfg.stateDir);
  if (missing) {
    console.error(`podflare keys ${sub.name}: ${missing}`);
    return 1;
  }
  const store = openStore(cfg.stateDir);
  const keys = new KeyStore(store.keys);
  try {
    if (sub.name === "ls") {
      const when = (t: number | null) => (t ? new Date(t).toISOString() : "-");
      const rows = keys.list().map((k) => [k.id, `${k.prefix}…`, k.tier + (k.admin ? "*" : ""), shownKeyName(k.name), when(k.createdAt), when(k.lastUsedAt), k.revokedAt ? "revoked" : "live"]);
      for (const line of formatTable([["ID", "PREFIX", "TIER", "NAME", "CREATED", "LAST USED", "STATE"], ...rows])) console.log(line);
      return 0;
    }
    const ref = parsed.positionals[0]!;
    try {
      revokeKey(keys, ref, guardFor(cfg));
    } catch (err) {
      if (!(err instanceof PodflareError)) throw err;
      console.error(`podflare keys revoke: ${err.message}`);
      return 1;
    }
    console.log(`revoked ${shownKeyRef(ref)}`);
    return 0;
  } finally {
    store.close();
  }
}
