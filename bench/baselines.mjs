// Baselines run on the same machine in the same minute as our figures: what an agent builder
// would use without Podflare. Each returns samples in ms, or null with the reason printed.
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { time } from "./stats.mjs";

/** Floor: one round trip over a Unix socket between this process and an echo server. */
export async function unixSocketRoundTrip(runs) {
  const sock = path.join(os.tmpdir(), `pf-bench-${process.pid}.sock`);
  fs.rmSync(sock, { force: true });
  const server = net.createServer((c) => c.on("data", (d) => c.write(d)));
  await new Promise((r) => server.listen(sock, r));
  const client = net.createConnection(sock);
  await new Promise((r) => client.once("connect", r));
  const samples = [];
  for (let i = 0; i < runs; i++) {
    samples.push(await time(() => new Promise((r) => { client.once("data", r); client.write("x"); })));
  }
  client.destroy();
  server.close();
  fs.rmSync(sock, { force: true });
  return samples;
}

/** A fresh `bwrap --unshare-all` sandbox running python3 per call (Debian's bubblewrap). */
export async function bwrapPerCall(runs) {
  if (spawnSync("which", ["bwrap"]).status !== 0) {
    console.log("baseline bwrap: not installed (apt-get install bubblewrap)");
    return null;
  }
  const args = ["--unshare-all", "--die-with-parent", "--ro-bind", "/usr", "/usr", "--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64", "--symlink", "usr/bin", "/bin", "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "/usr/bin/python3", "-c", "print(6*7)"];
  const samples = [];
  for (let i = 0; i < runs; i++) {
    samples.push(await time(() => new Promise((resolve, reject) => {
      const p = spawn("bwrap", args, { stdio: ["ignore", "pipe", "inherit"] });
      let out = "";
      p.stdout.on("data", (d) => (out += d));
      // "close", not "exit": exit can come before the last of stdout is read.
      p.on("close", (code) => (code === 0 && out === "42\n" ? resolve() : reject(new Error(`bwrap exit ${code}: ${out}`))));
    })));
  }
  return samples;
}

/** A Jupyter kernel (Debian python3-ipykernel) driven by jupyter_client: hot exec of print(6*7). */
export function jupyterHotExec(runs) {
  const script = `
import json, time
from jupyter_client.manager import start_new_kernel
km, kc = start_new_kernel(kernel_name="python3")
kc.execute_interactive("print(6*7)", output_hook=lambda m: None)
out = []
for _ in range(${runs}):
    t0 = time.perf_counter()
    kc.execute_interactive("print(6*7)", output_hook=lambda m: None)
    out.append((time.perf_counter() - t0) * 1000)
kc.stop_channels(); km.shutdown_kernel(now=True)
print(json.dumps(out))
`;
  const r = spawnSync("/usr/bin/python3", ["-c", script], { encoding: "utf8", timeout: 120_000 });
  if (r.status !== 0) {
    console.log(`baseline jupyter: unavailable (apt-get install python3-ipykernel python3-jupyter-client): ${r.stderr.trim().split("\n").pop()}`);
    return null;
  }
  return JSON.parse(r.stdout.trim().split("\n").pop());
}

/**
 * Floor for fork: a bare os.fork() of a python3 process holding `heapMb` of heap, child exits
 * at once. `hugePages`: glibc's malloc asks for transparent huge pages, as in the guest kernel.
 */
export function bareFork(heapMb, runs, { hugePages = false } = {}) {
  const script = `
import json, os, time
heap = bytearray(os.urandom(1024 * 1024) * ${heapMb}) if ${heapMb} else b""
out = []
for _ in range(${runs}):
    t0 = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
    out.append((time.perf_counter() - t0) * 1000)
print(json.dumps(out))
`;
  const env = { ...process.env, ...(hugePages ? { GLIBC_TUNABLES: "glibc.malloc.hugetlb=1" } : {}) };
  const r = spawnSync("/usr/bin/python3", ["-c", script], { encoding: "utf8", timeout: 120_000, env });
  if (r.status !== 0) throw new Error(`bare fork baseline failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split("\n").pop());
}

/** `clients` concurrent loops, each running `bwrapPerCall` `cycles` times: the no-platform answer to concurrency. */
export async function bwrapConcurrent(clients, cycles) {
  const all = await Promise.all(Array.from({ length: clients }, () => bwrapPerCall(cycles)));
  return all.every(Boolean) ? all.flat() : null;
}

/** Floor for freeze: pickling `mb` MB of state in a plain python3 process and fsyncing it to disk. */
export function pickleToDisk(mb, runs) {
  const script = `
import json, os, pickle, tempfile, time
state = [bytes(1024 * 1024) for _ in range(${mb})]
out = []
for _ in range(${runs}):
    t0 = time.perf_counter()
    with tempfile.NamedTemporaryFile(dir="/var/tmp") as f:
        pickle.dump(state, f, protocol=pickle.HIGHEST_PROTOCOL)
        f.flush()
        os.fsync(f.fileno())
    out.append((time.perf_counter() - t0) * 1000)
print(json.dumps(out))
`;
  const r = spawnSync("/usr/bin/python3", ["-c", script], { encoding: "utf8", timeout: 120_000 });
  if (r.status !== 0) throw new Error(`pickle baseline failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split("\n").pop());
}

/** Floor for pause and resume: SIGSTOP / SIGCONT of one process (what a freezer replaces). */
export async function stopContSignals(runs) {
  const child = spawn("sleep", ["600"], { stdio: "ignore" });
  const stop = [];
  const cont = [];
  for (let i = 0; i < runs; i++) {
    stop.push(await time(async () => process.kill(child.pid, "SIGSTOP")));
    cont.push(await time(async () => process.kill(child.pid, "SIGCONT")));
  }
  child.kill("SIGKILL");
  return { stop, cont };
}

/** Floor for density: memory charged to a cgroup holding idle python3 REPLs inside bwrap (the same accounting as ours). */
export async function bwrapIdleMemoryBytes(count) {
  if (spawnSync("which", ["bwrap"]).status !== 0) return null;
  const v2 = fs.existsSync("/sys/fs/cgroup/cgroup.controllers");
  const dir = v2 ? `/sys/fs/cgroup/pf-bench-bwrap-${process.pid}` : `/sys/fs/cgroup/memory/pf-bench-bwrap-${process.pid}`;
  const usage = () => Number(fs.readFileSync(`${dir}/${v2 ? "memory.current" : "memory.usage_in_bytes"}`, "utf8"));
  fs.mkdirSync(dir);
  const args = ["--unshare-all", "--die-with-parent", "--ro-bind", "/usr", "/usr", "--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64", "--symlink", "usr/bin", "/bin", "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "/usr/bin/python3", "-i", "-q"];
  const procs = [];
  try {
    for (let i = 0; i < count; i++) {
      // A shell joins the cgroup, then becomes bwrap: everything it starts is charged there.
      const p = spawn("sh", ["-c", `echo $$ > ${dir}/cgroup.procs && exec bwrap "$@"`, "sh", ...args], { stdio: ["pipe", "ignore", "ignore"] });
      p.stdin.write("x = 1\n");
      procs.push(p);
    }
    await new Promise((r) => setTimeout(r, 2500));
    return usage() / count;
  } finally {
    for (const p of procs) p.kill("SIGKILL");
    await new Promise((r) => setTimeout(r, 500));
    try {
      fs.rmdirSync(dir);
    } catch {
      /* a straggler: gone with its process */
    }
  }
}
