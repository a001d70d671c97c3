// Runs the network tools (ip, nft, nsenter) with a batch on stdin. hostd runs as root; the
// tools do the netlink work so hostd never enters another namespace itself.
import { spawnToolPiped } from "../host-tools/index.js";

export class NetworkCommandError extends Error {
  constructor(readonly argv: string[], readonly code: number, readonly stderr: string) {
    super(`${argv.join(" ")} failed (exit ${code}): ${stderr.trim().slice(0, 800)}`);
    this.name = "NetworkCommandError";
  }
}

const TOOL_ENV = { LANG: "C" };

export function run(argv: string[], input = "", timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawnToolPiped(argv[0]!, argv.slice(1), { env: TOOL_ENV });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.stdout.on("data", (b: Buffer) => out.push(b));
    child.stderr.on("data", (b: Buffer) => err.push(b));
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(new NetworkCommandError(argv, 127, e.message));
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      const stderr = Buffer.concat(err).toString("utf8");
      if (code === 0) resolve(Buffer.concat(out).toString("utf8"));
      else reject(new NetworkCommandError(argv, code ?? 128, signal ? `killed by ${signal}${stderr ? `: ${stderr}` : ""}` : stderr));
    });
    child.stdin.on("error", () => undefined);
    child.stdin.end(input);
  });
}

/** `ip -batch -` in a named network namespace (or the host's when ns is null). */
export function ipBatch(ns: string | null, lines: string[]): Promise<string> {
  return run(["ip", ...(ns ? ["-n", ns] : []), "-batch", "-"], lines.join("\n") + "\n");
}

/** `ip -batch -` in the network namespace of a process. */
export function ipBatchInPid(pid: number, lines: string[]): Promise<string> {
  return run(["nsenter", `--net=/proc/${pid}/ns/net`, "ip", "-batch", "-"], lines.join("\n") + "\n");
}

/** `nft -f -` in a named network namespace (or the host's when ns is null). */
export function nft(ns: string | null, script: string): Promise<string> {
  return run([...(ns ? ["nsenter", `--net=/run/netns/${ns}`] : []), "nft", "-f", "-"], script);
}
