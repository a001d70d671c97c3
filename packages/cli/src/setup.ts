// `podflare setup`: what a fresh Debian machine needs before hostd can run: the Debian packages
// (apt-get, the host's only package source) and the kernel features. `podflare serve` runs it
// first; the daemon itself never installs anything.
import { hostProblems } from "@podflare/hostd";
import { ensureDebianPackages } from "@podflare/hostd/storage";
import { parseOrHelp, type CommandSpec } from "./args.js";

/** Keep equal to scripts/setup-host.sh, which CI runs before `npm ci`. */
export const hostPackages = ["mmdebstrap", "btrfs-progs", "python3", "debian-archive-keyring", "ca-certificates", "nftables", "iproute2", "util-linux"];

const setupSpec: CommandSpec = {
  usage: `usage: podflare setup

  As root: installs the Debian packages hostd needs (${hostPackages.join(", ")}) with apt-get when
  missing, then checks the kernel (namespaces, cgroups). \`podflare serve\` runs it first.`,
};

/** Installs what is missing and checks the host; false (after saying why) when it cannot run sandboxes. */
export async function setUpHost(log: (msg: string) => void): Promise<boolean> {
  if (process.getuid?.() !== 0) {
    console.error("podflare must run as root to set up the host and serve: sandboxes are namespaces, cgroups and a storage pool. Try: sudo npx podflare serve");
    return false;
  }
  const installed = await ensureDebianPackages(hostPackages, log);
  if (installed.length) log(`installed ${installed.join(", ")}`);
  const problems = hostProblems();
  if (problems.length) {
    console.error("this host cannot run sandboxes yet:");
    for (const p of problems) console.error(`  - ${p.what}: ${p.fix}`);
    return false;
  }
  return true;
}

export async function setupCommand(args: string[]): Promise<number> {
  if (!parseOrHelp(setupSpec, args)) return 0;
  const ok = await setUpHost((msg) => process.stderr.write(`setup: ${msg}\n`));
  if (ok) console.log("host ready: packages installed, namespaces and cgroups usable");
  return ok ? 0 : 1;
}
