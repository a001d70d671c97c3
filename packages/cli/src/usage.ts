// `podflare usage`: the caller's usage (PODFLARE_API_KEY decides whose), under the REST names.
import { Sandbox } from "podflare";
import { parseOrHelp, type CommandSpec } from "./args.js";

const usageSpec: CommandSpec = {
  usage: `usage: podflare usage

  The calling key's totals (PODFLARE_API_KEY decides whose) from hostd at PODFLARE_HOSTD_URL:
  sandboxes_created, sandbox_seconds, gb_seconds, execs, forks.`,
};

export async function usageCommand(args: string[]): Promise<number> {
  if (!parseOrHelp(usageSpec, args)) return 0;
  const u = await Sandbox.usage();
  const rows: [string, number | string][] = [
    ["owner", u.owner],
    ["sandboxes_created", u.sandboxesCreated],
    ["sandbox_seconds", u.sandboxSeconds],
    ["gb_seconds", u.gbSeconds],
    ["execs", u.execs],
    ["forks", u.forks],
  ];
  for (const [k, v] of rows) console.log(`${k.padEnd(18)} ${v}`);
  return 0;
}
