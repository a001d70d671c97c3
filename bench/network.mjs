// Network figures (issue 6): what networking adds to a cold create, TCP throughput from a
// sandbox through the router to a namespace standing for the internet (the bench makes it and
// removes it; no traffic leaves the machine), and the time to apply an egress-policy change.
import { spawn, spawnSync } from "node:child_process";
import crypto from "node:crypto";
import { cgroupParentFor } from "@podflare/hostd";
import { routerNames } from "@podflare/hostd/network";
import { Sandbox } from "podflare";
import { knobs } from "./knobs.mjs";
import { printTable, summarize, time } from "./stats.mjs";

const runs = knobs.networkRuns;
const SEND_MB = 256;

function sh(argv, input) {
  const r = spawnSync(argv[0], argv.slice(1), { encoding: "utf8", input });
  if (r.status !== 0) throw new Error(`${argv.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

const SINK = `
import socket, sys, threading
srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind((sys.argv[1], 9000)); srv.listen(16); print("ready", flush=True)
def drain(c):
    while c.recv(1 << 20): pass
    c.close()
while True:
    c, _ = srv.accept(); threading.Thread(target=drain, args=(c,), daemon=True).start()
`;

/** A TCP sink on port 9000 that reads and drops everything (argv prefix: e.g. ip netns exec). */
async function tcpSink(prefix, bind) {
  const argv = [...prefix, "python3", "-c", SINK, bind];
  const proc = spawn(argv[0], argv.slice(1), { stdio: ["ignore", "pipe", "inherit"] });
  await new Promise((resolve) => proc.stdout.once("data", resolve));
  return proc;
}

/** A namespace plugged into the router at 198.51.100.2 (TEST-NET-2), with a TCP sink on :9000. */
async function outsideSink(routerNs) {
  const tag = crypto.randomBytes(3).toString("hex");
  const ns = `pfb-out-${tag}`;
  sh(["ip", "netns", "add", ns]);
  sh(["ip", "-n", routerNs, "link", "add", `pfb${tag}`, "type", "veth", "peer", "name", "eth0", "netns", ns]);
  sh(["ip", "-n", routerNs, "-batch", "-"], `addr add 198.51.100.1/24 dev pfb${tag}\nlink set pfb${tag} up\n`);
  sh(["ip", "-n", ns, "-batch", "-"], "link set lo up\nlink set eth0 up\naddr add 198.51.100.2/24 dev eth0\nroute add default via 198.51.100.1\n");
  const sink = await tcpSink(["ip", "netns", "exec", ns], "0.0.0.0");
  return { remove: () => { sink.kill("SIGKILL"); spawnSync("ip", ["netns", "del", ns]); } };
}

const SEND = (host) => `
import socket, time
buf = bytes(1 << 20)
s = socket.create_connection((${JSON.stringify(host)}, 9000))
t0 = time.perf_counter()
for _ in range(${SEND_MB}): s.sendall(buf)
s.shutdown(socket.SHUT_WR); s.recv(1); s.close()
print(round((time.perf_counter() - t0) * 1000, 3))
`;

export async function runNetwork() {
  const rows = [];
  const baselines = [];
  // Cold creates (a size the warm pool does not hold), egress on and off interleaved.
  const on = [];
  const off = [];
  for (let i = 0; i < runs; i++) {
    for (const [egress, into] of [[true, on], [false, off]]) {
      let sb;
      into.push(await time(async () => (sb = await Sandbox.create({ memoryMb: 768, egress }))));
      await sb.close();
    }
  }
  const offBase = { name: "cold create, egress off (loopback only)", stats: summarize(off), samples: off };
  baselines.push(offBase);
  rows.push({ name: "cold create, egress on (link, address, rules)", stats: summarize(on), samples: on, baseline: offBase });

  // Throughput: sandbox -> router -> outside namespace, against the same transfer on host loopback.
  const routerNs = routerNames(cgroupParentFor(process.env.PODFLARE_STATE_DIR || "/var/lib/podflare-bench")).netns;
  const sink = await outsideSink(routerNs);
  const through = [];
  const loop = [];
  try {
    const sb = await Sandbox.create();
    const loSink = await tcpSink([], "127.0.0.1");
    try {
      for (let i = 0; i < 5; i++) {
        const r = await sb.runCode(SEND("198.51.100.2"));
        if (r.exitCode !== 0) throw new Error(`send from the sandbox failed: ${r.stderr}`);
        through.push(Number(r.stdout.trim()));
        loop.push(Number(sh(["python3", "-c", SEND("127.0.0.1")]).trim()));
      }
    } finally {
      loSink.kill("SIGKILL");
    }

    // Policy change: PUT /network, against a plain API round trip on the same sandbox.
    const put = [];
    const get = [];
    for (let i = 0; i < runs; i++) {
      put.push(await time(() => sb.setNetwork({ allowOut: i % 2 ? ["198.51.100.2", "pypi.org"] : null })));
      get.push(await time(() => sb.info()));
    }
    await sb.close();
    const getBase = { name: "GET sandbox info (API round trip)", stats: summarize(get), samples: get };
    baselines.push(getBase);
    rows.push({ name: "apply an egress-policy change (PUT /network)", stats: summarize(put), samples: put, baseline: getBase });
  } finally {
    sink.remove();
  }
  const loBase = { name: `send ${SEND_MB} MB over host loopback`, stats: summarize(loop), samples: loop };
  baselines.push(loBase);
  rows.push({ name: `send ${SEND_MB} MB sandbox → router → outside`, stats: summarize(through), samples: through, baseline: loBase });
  printTable(`network (${runs} runs; throughput 5 runs of ${SEND_MB} MB)`, rows);
  const mbps = (ms) => ((SEND_MB * 8) / (ms / 1000)).toFixed(0);
  console.log(`throughput p50: sandbox → outside ${mbps(summarize(through).p50)} Mbit/s, host loopback ${mbps(summarize(loop).p50)} Mbit/s`);
  return {
    rows: rows.map((r) => ({ name: r.name, stats: r.stats, samples: r.samples, baseline: r.baseline?.name ?? null })),
    baselines,
    throughputMbitS: { sandbox: Number(mbps(summarize(through).p50)), loopback: Number(mbps(summarize(loop).p50)) },
  };
}

if (import.meta.url === `file://${process.argv[1]}`) await runNetwork();
