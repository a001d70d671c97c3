// `podflare usage`: the caller's usage (PODFLARE_API_KEY decides whose), under the REST names.
import { Sandbox } from "podflare";

export async function usageCommand(_args: string[]): Promise<number> {
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
