// The edge hop (issue 18): what `podflare edge` adds to a hot exec, a small call and a
// pool-hit create against the same origin asked directly, in one run, calls interleaved
// (direct, edge, bare proxy, …) so drift hits all alike. The edge is its own process, as
// deployed. Baselines: a bare 10-line Node pipe proxy (node:http server and keep-alive agent,
// no routing), the same edge with its llhttp fast path off (PODFLARE_EDGE_FAST_PATH=0), and a
// raw relay that reads requests with llhttp and passes answers back untouched (the floor).
// Hot execs and creates are then timed again on a busy host (one SCHED_IDLE spinner per core,
// so no vCPU halts between calls): on this nested VM an idle vCPU wakes ~0.1-0.2 ms late, and
// that, not the hop's code, is most of what any hop adds to a create on an idle host.
// Goal: ≤ 0.3 ms added at p50. The origin needs PODFLARE_REGION
// (npm run bench sets "bench").
// Usage: PODFLARE_HOSTD_URL=http://127.0.0.1:7070 node bench/edge.mjs (counts: bench/knobs.mjs)
import { spawn } from "node:child_process";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { knobs } from "./knobs.mjs";
import { fmt, printTable, summarize, time } from "./stats.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const url = process.env.PODFLARE_HOSTD_URL ?? "http://127.0.0.1:7070";
const edgeAddr = process.env.PODFLARE_BENCH_EDGE_ADDR || "127.0.0.1:7380";
const [edgeHost, edgePort] = edgeAddr.split(":");
const bareAddr = `${edgeHost}:${Number(edgePort) + 1}`;
const plainEdgeAddr = `${edgeHost}:${Number(edgePort) + 2}`;
const relayAddr = `${edgeHost}:${Number(edgePort) + 3}`;
const { edgeRuns: runs, edgeCreateRuns: createRuns } = knobs;

function client(base) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const call = (method, p, body) => new Promise((resolve, reject) => {
    const req = http.request(base + p, { method, agent, headers: body ? { "content-type": "application/json" } : {} }, (res) => {
      let text = "";
      res.on("data", (d) => (text += d));
      res.on("end", () => (res.statusCode < 300 ? resolve(text) : reject(new Error(`${method} ${p}: ${res.statusCode} ${text}`))));
    });
    req.on("error", reject);
    req.end(body ? JSON.stringify(body) : undefined);
  });
  return { call, close: () => agent.destroy() };
}

const bareProxy = `
const http = require("node:http");
const o = new URL(process.argv[1]);
const agent = new http.Agent({ keepAlive: true });
http.createServer((req, res) => {
  const up = http.request({ hostname: o.hostname, port: o.port, method: req.method, path: req.url, headers: req.headers, agent }, (r) => { res.writeHead(r.statusCode, r.headers); r.pipe(res); });
  req.pipe(up);
}).listen(Number(process.argv[2]), process.argv[3]);`;

// The floor of any hop that reads HTTP: llhttp (as the edge's fast path) finds each request,
// its head goes on with X-Forwarded-For, and the origin's bytes come back untouched; one origin
// connection per caller, no routing, no limits, no timeouts.
const rawRelay = `
const net = require("node:net");
const { HTTPParser, methods } = require("_http_common");
const [host, port] = process.argv[1].split(":");
net.createServer({ noDelay: true }, (c) => {
  const up = net.connect({ host, port: Number(port), noDelay: true });
  up.on("data", (d) => c.write(d));
  up.on("error", () => c.destroy());
  const p = new HTTPParser();
  p.initialize(HTTPParser.REQUEST, {});
  let out = [];
  p[HTTPParser.kOnHeadersComplete] = (_a, _b, h, m, url) => {
    let head = methods[m] + " " + url + " HTTP/1.1\\r\\n";
    for (let i = 0; i < h.length; i += 2) head += h[i] + ": " + h[i + 1] + "\\r\\n";
    out = [Buffer.from(head + "x-forwarded-for: " + c.remoteAddress + "\\r\\n\\r\\n", "latin1")];
    return 0;
  };
  p[HTTPParser.kOnBody] = (b) => out.push(Buffer.from(b));
  p[HTTPParser.kOnMessageComplete] = () => up.write(Buffer.concat(out));
  c.on("data", (d) => p.execute(d));
  c.on("error", () => up.destroy());
  c.on("close", () => up.destroy());
}).listen(Number(process.argv[2]), process.argv[3]);`;

async function startProcess(argv, env, addr, what) {
  const proc = spawn(process.execPath, argv, { env: { ...process.env, ...env }, stdio: ["ignore", "ignore", "inherit"] });
  const base = `http://${addr}`;
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${base}/v1/healthz`)).ok) break;
    } catch {}
    if (proc.exitCode !== null || i > 300) throw new Error(`${what} did not start`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { url: base, stop: () => new Promise((r) => { proc.once("exit", r); proc.kill("SIGTERM"); }) };
}

async function poolFull() {
  for (let i = 0; i < 4000; i++) {
    const cap = await (await fetch(`${url}/v1/capacity`)).json();
    if (!cap.pool || cap.pool.free >= cap.pool.size) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Rounds of one sample each way, the order turned every round: {direct, edge, bare, plain, relay}. */
async function interleaved(n, fns, before = async () => {}) {
  const names = Object.keys(fns);
  const out = Object.fromEntries(names.map((k) => [k, []]));
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < names.length; j++) {
      const k = names[(i + j) % names.length];
      await before(k);
      out[k].push(await time(fns[k]));
    }
  }
  return out;
}

/**
 * Runs `fn` with one SCHED_IDLE spinner per core (util-linux chrt and taskset), killed after;
 * each spinner also stops by itself once this process is gone.
 */
async function busyHost(fn) {
  const cores = os.availableParallelism();
  const spinners = [];
  try {
    for (let c = 0; c < cores; c++) {
      const sp = spawn("chrt", ["--idle", "0", "taskset", "-c", String(c), "sh", "-c", "while kill -0 $PPID 2>/dev/null; do :; done"], { stdio: "ignore" });
      spinners.push(sp);
      await new Promise((resolve, reject) => {
        sp.once("spawn", resolve);
        sp.once("error", reject);
      });
    }
    // A spinner that could not get its class or core exits at once.
    await new Promise((r) => setTimeout(r, 200));
    const dead = spinners.find((sp) => sp.exitCode !== null);
    if (dead) return { ran: false, why: `a spinner (chrt --idle 0 taskset -c N sh) exited with ${dead.exitCode}` };
    return { ran: true, result: await fn() };
  } catch (err) {
    if (err.code === "ENOENT") return { ran: false, why: "chrt or taskset (util-linux) not found" };
    throw err;
  } finally {
    for (const sp of spinners) if (sp.exitCode === null) sp.kill("SIGKILL");
  }
}

export async function runEdge() {
  const region = (await fetch(`${url}/v1/healthz`)).headers.get("x-podflare-region");
  if (!region) throw new Error(`the origin ${url} has no PODFLARE_REGION: the edge routes only to hostds with a region`);
  const cli = path.join(root, "packages/cli/dist/main.js");
  const edge = await startProcess([cli, "edge", "--region", `${region}=${url}`], { PODFLARE_EDGE_ADDR: edgeAddr }, edgeAddr, "podflare edge");
  const bare = await startProcess(["-e", bareProxy, url, bareAddr.split(":")[1], edgeHost], {}, bareAddr, "the bare proxy");
  // The same edge with its llhttp fast path off (node:http server and client), for the ratio.
  const relay = await startProcess(["-e", rawRelay, url.replace(/^http:\/\//, ""), relayAddr.split(":")[1], edgeHost], {}, relayAddr, "the raw relay");
  const plain = await startProcess([cli, "edge", "--region", `${region}=${url}`], { PODFLARE_EDGE_ADDR: plainEdgeAddr, PODFLARE_EDGE_FAST_PATH: "0" }, plainEdgeAddr, "podflare edge (node:http only)");
  const direct = client(url);
  const viaEdge = client(edge.url);
  const viaBare = client(bare.url);
  const viaPlain = client(plain.url);
  const viaRelay = client(relay.url);
  try {
    const { id } = JSON.parse(await direct.call("POST", "/v1/sandboxes", {}));
    const exec = (c) => async () => {
      const out = await c.call("POST", `/v1/sandboxes/${id}/exec`, { code: "print(6*7)" });
      if (!out.includes('"42\\n"')) throw new Error(out);
    };
    const each = (f) => ({ direct: f(direct), edge: f(viaEdge), bare: f(viaBare), plain: f(viaPlain), relay: f(viaRelay) });
    await interleaved(10, each(exec)); // warm every path
    const hot = await interleaved(runs, each(exec));
    const info = (c) => () => c.call("GET", `/v1/sandboxes/${id}`);
    const small = await interleaved(runs, each(info));
    // Each created sandbox is closed before the next sample, outside the timing, and the pool
    // refilled: no sample shares the host with another's cleanup.
    const made = [];
    const create = (c) => async () => made.push(JSON.parse(await c.call("POST", "/v1/sandboxes", {})).id);
    // Between creates every process on the path sits idle while the pool refills; a vCPU that
    // idle wakes slowly on this nested VM (~0.2 ms a hop, measured), which is the host's cost,
    // not the hop's. So each path carries one untimed small call just before its timed create,
    // as a busy edge would have: the figure is the hop's, warm.
    const paths = { direct, edge: viaEdge, bare: viaBare, plain: viaPlain, relay: viaRelay };
    const settle = async (next) => {
      for (const sid of made.splice(0)) await direct.call("DELETE", `/v1/sandboxes/${sid}`);
      await poolFull();
      await paths[next].call("GET", "/v1/capacity");
    };
    // Creates run less often than execs: their code paths (the edge's create and failover code
    // among them) get untimed rounds first, as the execs did above, so V8 has compiled them.
    await interleaved(10, each(create), settle);
    const creates = await interleaved(createRuns, each(create), settle);
    await settle("direct");
    // The same hot execs and creates on a busy host: one spinning process per core at the idle
    // scheduling class (SCHED_IDLE: it gets a core only when nothing else wants it, and yields
    // at once when anything wakes), so no vCPU ever halts. On an idle nested VM every wake-up of
    // a halted vCPU costs ~0.1-0.2 ms (cpuidle driver "none"), and a hop adds two of them; a
    // host under load, as an edge's origins are, never pays that.
    const busy = await busyHost(async () => {
      await interleaved(10, each(exec));
      const hotBusy = await interleaved(runs, each(exec));
      await interleaved(3, each(create), settle);
      const createsBusy = await interleaved(createRuns, each(create), settle);
      await settle("direct");
      return { hot: hotBusy, creates: createsBusy };
    });
    await direct.call("DELETE", `/v1/sandboxes/${id}`);
    const rows = [];
    const figures = {};
    const scenarios = [["hot exec print(6*7)", hot], ["GET /v1/sandboxes/:id", small], ["pool-hit create", creates]];
    if (busy.ran) scenarios.push(["hot exec print(6*7), busy host", busy.result.hot], ["pool-hit create, busy host", busy.result.creates]);
    for (const [name, s] of scenarios) {
      const sd = summarize(s.direct);
      const se = summarize(s.edge);
      const sb = summarize(s.bare);
      const sp = summarize(s.plain);
      const sr = summarize(s.relay);
      rows.push({ name: `${name}, direct`, stats: sd });
      rows.push({ name: `${name}, through the edge`, stats: se, baseline: { name: "direct", stats: sd } });
      rows.push({ name: `${name}, baseline: bare Node proxy`, stats: sb, baseline: { name: "direct", stats: sd } });
      rows.push({ name: `${name}, baseline: the edge on node:http only`, stats: sp, baseline: { name: "direct", stats: sd } });
      rows.push({ name: `${name}, baseline: raw llhttp relay`, stats: sr, baseline: { name: "direct", stats: sd } });
      figures[name] = {
        added_p50_ms: se.p50 - sd.p50,
        added_p99_ms: se.p99 - sd.p99,
        bare_added_p50_ms: sb.p50 - sd.p50,
        node_http_edge_added_p50_ms: sp.p50 - sd.p50,
        raw_relay_added_p50_ms: sr.p50 - sd.p50,
        ratio_p50: se.p50 / sd.p50,
        ratio_vs_bare_p50: se.p50 / sb.p50,
      };
    }
    printTable(`edge hop (${runs} hot execs and calls, ${createRuns} creates each way, interleaved; goal ≤ 0.3 ms added at p50)`, rows);
    for (const [name, f] of Object.entries(figures)) {
      console.log(`  ${name}: edge adds ${fmt(f.added_p50_ms)} at p50, ${fmt(f.added_p99_ms)} at p99 (×${f.ratio_p50.toFixed(3)} direct, ×${f.ratio_vs_bare_p50.toFixed(3)} the bare proxy, which adds ${fmt(f.bare_added_p50_ms)}; the edge on node:http only adds ${fmt(f.node_http_edge_added_p50_ms)}, the raw llhttp relay ${fmt(f.raw_relay_added_p50_ms)})`);
    }
    if (!busy.ran) console.log(`  busy host: not measured (${busy.why})`);
    return { rows: rows.map((r) => ({ name: r.name, stats: r.stats, baseline: r.baseline?.name ?? null })), figures };
  } finally {
    for (const c of [direct, viaEdge, viaBare, viaPlain, viaRelay]) c.close();
    await edge.stop();
    await bare.stop();
    await plain.stop();
    await relay.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await runEdge();
}
