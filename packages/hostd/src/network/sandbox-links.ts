// Sandbox links as the router namespace sees them: a link's name, and the links and routes
// there now (read in one `ip` call each).
import crypto from "node:crypto";
import { run, NetworkCommandError } from "./commands.js";
import { SANDBOX_LINK_PREFIX } from "./rulesets.js";

/** The router-side name of a sandbox's link: pfs + 10 hex digits of its key's hash. */
export function linkName(key: string): string {
  return SANDBOX_LINK_PREFIX + crypto.createHash("sha256").update(key).digest("hex").slice(0, 10);
}

/** Sandbox links and routes (`<dst> <dev>`) of the router, in one `ip` call. */
export async function routerLinksAndRoutes(netns: string): Promise<{ links: Set<string>; routes: Set<string> }> {
  const out = await run(["ip", "-n", netns, "-j", "-4", "-batch", "-"], "link show\nroute show\n");
  const [links, routes] = out.split("\n").filter(Boolean).map((line) => JSON.parse(line) as Record<string, string>[]);
  return {
    links: new Set((links ?? []).map((l) => l.ifname!.replace(/@.*$/, "")).filter((n) => n.startsWith(SANDBOX_LINK_PREFIX))),
    routes: new Set((routes ?? []).map((r) => `${r.dst} ${r.dev}`)),
  };
}

/** Sandbox links of the router. */
export async function routerLinks(netns: string): Promise<Set<string>> {
  const out = await run(["ip", "-n", netns, "-j", "link", "show"]);
  const links = JSON.parse(out) as { ifname: string }[];
  return new Set(links.map((l) => l.ifname.replace(/@.*$/, "")).filter((n) => n.startsWith(SANDBOX_LINK_PREFIX)));
}

/** For deletions that may find the link already gone. */
export function ignoreMissing(e: unknown): void {
  if (e instanceof NetworkCommandError && /Cannot find device|does not exist|No such device/i.test(e.stderr)) return;
  throw e;
}
