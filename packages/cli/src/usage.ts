// `podflare usage`: the caller's usage (PODFLARE_API_KEY decides whose).
import { call } from "./client.js";

export async function usageCommand(_args: string[]): Promise<number> {
  const u = (await (await call("GET", "/v1/usage")).json()) as Record<string, number | string>;
  for (const [k, v] of Object.entries(u)) console.log(`${k.padEnd(18)} ${v}`);
  return 0;
}
