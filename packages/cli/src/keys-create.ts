// `podflare keys create`: makes a key in the metadata store (the state dir and store too, when
// missing: keys can be made before hostd's first start). The first stored key turns auth on
// for a hostd that had it off, so that one comes with a warning saying how to undo it.
import fs from "node:fs";
import { KeyStore, isLoopback, keyNameProblem, isTierName, openStore, stateDirOwner, tierNames, type loadConfig } from "@podflare/hostd";
import { UsageError, type CommandSpec, type ParsedArgs } from "./args.js";
import { stateDirLabel } from "./state-dir.js";
import { printable } from "./table.js";

type Config = ReturnType<typeof loadConfig>;

export const createSpec: CommandSpec = {
  usage: `usage: podflare keys create --tier free|pro|scale|enterprise --name NAME [--admin]

  Creates an API key in PODFLARE_STATE_DIR's metadata store and prints it once on stdout.
  --tier and --name are required. --admin: the key may manage keys (POST/GET/DELETE /v1/keys).
  The first stored key turns auth on for a hostd that had it off (docs/api.md, "Auth mode").`,
  options: [{ name: "--tier", value: "TIER" }, { name: "--name", value: "NAME" }, { name: "--admin" }],
};

export function createKey(cfg: Config, args: ParsedArgs): number {
  const tier = args.value("--tier");
  const name = args.value("--name");
  if (!tier) throw new UsageError(`--tier is required (${tierNames.join(", ")})`, createSpec.usage);
  if (!isTierName(tier)) throw new UsageError(`--tier must be one of ${tierNames.join(", ")}, got ${JSON.stringify(tier)}`, createSpec.usage);
  if (!name) throw new UsageError("--name is required: it is what tells keys apart in `podflare keys ls`", createSpec.usage);
  const nameProblem = keyNameProblem(name);
  if (nameProblem) throw new UsageError(`--name: ${nameProblem}`, createSpec.usage);

  const newStateDir = !fs.existsSync(cfg.stateDir);
  const store = openStore(cfg.stateDir);
  try {
    const keys = new KeyStore(store.keys);
    const first = keys.count() === 0;
    const { key, record } = keys.create({ name, tier, admin: args.has("--admin") });
    console.log(key);
    console.error(`created ${record.id} (${record.tier}${record.admin ? ", admin" : ""}, "${printable(record.name)}"): the key above is shown once, store it now`);
    if (newStateDir) console.error(`made the state dir ${stateDirLabel(cfg.stateDir)} and its metadata store`);
    const warning = first ? firstKeyWarning(cfg, record.id) : undefined;
    if (warning) console.error(warning);
    return 0;
  } finally {
    store.close();
  }
}

/**
 * What the first stored key does to a hostd that had auth off (a loopback bind with no key
 * anywhere: docs/api.md, "Auth mode"), or undefined where auth was on (or off on purpose) anyway.
 * The running hostd's bind comes from its lock file; its keys from this environment, the best
 * guess the CLI has.
 */
export function firstKeyWarning(cfg: Config, id: string): string | undefined {
  const host = stateDirOwner(cfg.stateDir)?.addr?.replace(/:\d+$/, "") ?? cfg.addr.host;
  if (!isLoopback(host) || cfg.authDisabled || cfg.apiKeys.length > 0 || cfg.adminKey !== undefined) return undefined;
  return [
    `warning: ${id} is the first stored key of ${stateDirLabel(cfg.stateDir)}. Auth is now ON for every client of the hostd`,
    "on this state dir, from its next request: a request without a key gets 401. Clients need this key",
    "(PODFLARE_API_KEY=pf_live_… for the CLI and SDKs; Authorization: Bearer for REST). hostd keeps auth on",
    `until it restarts, even after the key is revoked. To undo: \`podflare keys revoke ${id}\`, then restart hostd`,
    "(with no live key on a loopback bind it starts with auth off), or start it with PODFLARE_AUTH_DISABLED=1.",
    "Sandboxes and Spaces made while auth was off belong to no key: no key reaches them now; an admin key",
    "sees them (GET /v1/sandboxes?all=true) and closes them (DELETE /v1/sandboxes/ID?all=true).",
  ].join("\n");
}
