// `podflare usage`: the caller's usage (PODFLARE_API_KEY decides whose).
import type { UsageReport } from "@podflare/protocol";
import { call } from "./client.js";

export async function usageCommand(_args: string[]): Promise<number> {
  const u = (await (await call("GET", "/v1/usage")).json()) as UsageReport;
  for (const [k, v] of Object.entries(u)) console.log(`${k.padEnd(18)} ${v}`);
  return 0;
}
