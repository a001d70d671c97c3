// `podflare keys create --tier pro --name ci [--admin] | ls | revoke ID|KEY`: manages the API
// keys in the metadata store of PODFLARE_STATE_DIR directly (as root), so the first key needs
// no key. A running hostd sees changes from its next request.
import { PodflareError } from "@podflare/protocol";
import { KeyStore, isLoopback, isTierName, lastKeyGuard, loadConfig, openStore, revokeKey, stateDirOwner, tierNames, type LastKeyGuard } from "@podflare/hostd";

/**
 * The last-key rule of the hostd these keys belong to: the running one's (from its lock file),
 * else the one this environment would start.
 */
function guardFor(cfg: ReturnType<typeof loadConfig>): LastKeyGuard {
  const owner = stateDirOwner(cfg.stateDir);
  if (owner?.addr !== undefined) return { host: owner.addr.replace(/:\d+$/, ""), keep: owner.keepLastKey === true };
  return lastKeyGuard({ host: cfg.addr.host, loopback: isLoopback(cfg.addr.host), authDisabled: cfg.authDisabled, envKeys: cfg.apiKeys.length, adminKey: cfg.adminKey !== undefined });
}

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i === -1 ? undefined : args[i + 1];
}

export async function keysCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  const cfg = loadConfig();
  const store = openStore(cfg.stateDir);
  const keys = new KeyStore(store.keys);
  try {
    if (sub === "create") {
      const tier = option(rest, "--tier") ?? "free";
      const name = option(rest, "--name") ?? "unnamed";
      if (!isTierName(tier)) {
        console.error(`--tier must be one of ${tierNames.join(", ")}`);
        return 2;
      }
      const { key, record } = keys.create({ name, tier, admin: rest.includes("--admin") });
      console.log(key);
      console.error(`created ${record.id} (${record.tier}${record.admin ? ", admin" : ""}, "${record.name}"): the key above is shown once, store it now`);
      return 0;
    }
    if (sub === "ls") {
      console.log(["ID".padEnd(17), "PREFIX".padEnd(13), "TIER".padEnd(10), "NAME".padEnd(16), "CREATED".padEnd(24), "LAST USED".padEnd(24), "STATE"].join(" "));
      for (const k of keys.list()) {
        const when = (t: number | null) => (t ? new Date(t).toISOString() : "-").padEnd(24);
        console.log([k.id.padEnd(17), `${k.prefix}…`.padEnd(13), (k.tier + (k.admin ? "*" : "")).padEnd(10), k.name.padEnd(16), when(k.createdAt), when(k.lastUsedAt), k.revokedAt ? "revoked" : "live"].join(" "));
      }
      return 0;
    }
    if (sub === "revoke" && rest[0]) {
      try {
        revokeKey(keys, rest[0], guardFor(cfg));
      } catch (err) {
        if (!(err instanceof PodflareError)) throw err;
        console.error(`podflare keys revoke: ${err.message}`);
        return 1;
      }
      console.log(`revoked ${rest[0]}`);
      return 0;
    }
    console.error("usage: podflare keys create --tier free|pro|scale|enterprise --name NAME [--admin] | keys ls | keys revoke ID");
    return 2;
  } finally {
    store.close();
  }
}
