// Node's side of jail/netcfg.py: configures eth0 (address, up, routes) inside sandbox network
// namespaces over rtnetlink, many sandboxes in one jail-server request.
import { answer, failure } from "./helper-process.js";
import { jailServer } from "./jail-server.js";

export interface GuestLink {
  /** Host pid of the sandbox init whose network namespace holds eth0. */
  pid: number;
  /** The init's start time (clock ticks since boot): a reused pid is refused. */
  startTime: number;
  address: string;
  gateway: string;
}

export async function configureGuestLinks(links: GuestLink[], timeoutMs = 30_000): Promise<void> {
  if (links.length === 0) return;
  const r = await jailServer().request("netcfg", { links }, timeoutMs);
  if (r.code !== 0 || typeof answer(r.stdout)?.configured !== "number") throw failure("netcfg", r);
}
