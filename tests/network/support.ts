// Network test helpers: the test hostd's router namespace, servers the tests start in it (the
// "host bridge" side of every sandbox link) and an "outside" namespace of the test's own that
// stands for the internet. Traffic goes only to these namespaces and loopback.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import crypto from "node:crypto";
import { routerNames } from "@podflare/hostd/network";
import { cgroupParentFor } from "@podflare/hostd";

export function sh(argv: string[], input?: string): string {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: "utf8", input });
  if (r.status !== 0) throw new Error(`${argv.join(" ")}: exit ${r.status}: ${r.stderr}`);
  return r.stdout;
}

export interface Router {
  netns: string;
  gateway: string;
  uplinkHost: string;
  hostUplink: string;
}

/** The router namespace of the hostd using `stateDir`, read from the live system. */
export function routerOf(stateDir = process.env.PODFLARE_STATE_DIR || "/var/lib/podflare-test"): Router {
  const names = routerNames(cgroupParentFor(stateDir));
  const lo = JSON.parse(sh(["ip", "-n", names.netns, "-j", "-4", "addr", "show", "dev", "lo"])) as { addr_info: { local: string }[] }[];
  const gateway = lo[0]!.addr_info.map((a) => a.local).find((a) => !a.startsWith("127."))!;
  const up = JSON.parse(sh(["ip", "-j", "-4", "addr", "show", "dev", names.hostUplink])) as { addr_info: { local: string }[] }[];
  return { netns: names.netns, gateway, uplinkHost: up[0]!.addr_info[0]!.local, hostUplink: names.hostUplink };
}

/** A Python HTTP file server in a namespace (null: the host's), stopped by the returned function. */
export async function fileServer(netns: string | null, bind: string, port: number, dir: string): Promise<() => Promise<void>> {
  const argv = ["python3", "-m", "http.server", String(port), "--bind", bind, "--directory", dir];
  const proc = spawn(netns ? "ip" : argv[0]!, netns ? ["netns", "exec", netns, ...argv] : argv.slice(1), { stdio: ["ignore", "ignore", "pipe"] });
  await waitListening(netns, bind, port, proc);
  return () => stop(proc);
}

async function waitListening(netns: string | null, bind: string, port: number, proc: ChildProcess): Promise<void> {
  let stderr = "";
  proc.stderr?.on("data", (b: Buffer) => (stderr += b.toString()));
  for (let i = 0; i < 300; i++) {
    if (proc.exitCode !== null) throw new Error(`server on ${bind}:${port} exited (${proc.exitCode}): ${stderr}`);
    const out = sh([...(netns ? ["ip", "netns", "exec", netns] : []), "ss", "-ltnH", `sport = :${port}`]);
    if (out.includes(`${bind}:${port}`)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`server on ${bind}:${port} did not start listening: ${stderr}`);
}

function stop(proc: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
    proc.once("exit", () => resolve());
    proc.kill("SIGTERM");
  });
}

/**
 * An "outside" namespace plugged into the router like an upstream network: 198.51.100.1 on the
 * router's side, 198.51.100.2 and .3 inside (TEST-NET-2, never routed anywhere real).
 */
export function makeOutside(router: Router): { netns: string; remove(): void } {
  const tag = crypto.randomBytes(3).toString("hex");
  const netns = `pft-out-${tag}`;
  const rlink = `pft${tag}`;
  sh(["ip", "netns", "add", netns]);
  try {
    sh(["ip", "-n", router.netns, "link", "add", rlink, "type", "veth", "peer", "name", "eth0", "netns", netns]);
    sh(["ip", "-n", router.netns, "-batch", "-"], `addr add 198.51.100.1/24 dev ${rlink}\nlink set ${rlink} up\n`);
    sh(["ip", "-n", netns, "-batch", "-"], "link set lo up\nlink set eth0 up\naddr add 198.51.100.2/24 dev eth0\naddr add 198.51.100.3/24 dev eth0\nroute add default via 198.51.100.1\n");
  } catch (err) {
    spawnSync("ip", ["netns", "del", netns]);
    throw err;
  }
  return { netns, remove: () => void spawnSync("ip", ["netns", "del", netns]) };
}

/** Python run in a sandbox that tries TCP connections and prints one line per target. */
export function probeCode(targets: [string, number][], timeoutS = 2): string {
  return `
import socket
for host, port in ${JSON.stringify(targets)}:
    s = socket.socket(); s.settimeout(${timeoutS})
    try:
        s.connect((host, port)); print(host, port, "open")
    except OSError as e:
        print(host, port, "closed", type(e).__name__)
    finally:
        s.close()
`;
}

export function probeResult(stdout: string, host: string, port: number): "open" | "closed" | undefined {
  const line = stdout.split("\n").find((l) => l.startsWith(`${host} ${port} `));
  return line?.split(" ")[2] as "open" | "closed" | undefined;
}
