// One tenant's cost to another (outside testers tj and tp): key B's calls, quiet and while key A
// works hostd hard in ways no sandbox cgroup pays for. Churn: A creates and closes sandboxes as
// fast as hostd lets it (its tier's start rate: free, 2 a second after 30) while B creates one
// every 500 ms. Output: A's three sandboxes print flat out, read as fast as it comes (its output
// pace, PODFLARE_OUTPUT_MB_PER_S_PER_KEY), while B runs print(1) every 100 ms. CPU: A's four
// sandboxes spin while B times a fixed loop in its one (each key's CPU weight). Raw HTTP.
// Needs keys, so it runs a hostd of its own (two free keys, its own state dir and port), or
// measures one given by PODFLARE_TENANTS_URL with PODFLARE_TENANTS_KEYS=keyA,keyB (and
// PODFLARE_TENANTS_PID for hostd's CPU), e.g. an older tree's for the figures before.
// Usage: node bench/tenants.mjs (as root); counts: bench/knobs.mjs (PODFLARE_BENCH_TENANTS_S).
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { knobs } from "./knobs.mjs";
import { fmt, printTable, summarize } from "./stats.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const cli = path.join(root, "packages/cli/dist/main.js");
const seconds = knobs.tenantsS;

/** A hostd of this bench's own with two free keys; stop() takes it down with its state dir. */
async function ownHostd() {
  const stateDir = process.env.PODFLARE_TENANTS_STATE_DIR || "/var/lib/podflare-bench-tenants";
  const addr = process.env.PODFLARE_TENANTS_ADDR || "127.0.0.1:7376";
  const keys = ["pf_live_tenantsA0123456789abcdefghijklmnop", "pf_live_tenantsB0123456789abcdefghijklmnop"];
  const env = {
    ...process.env,
    PODFLARE_STATE_DIR: stateDir,
    PODFLARE_HOSTD_ADDR: addr,
    PODFLARE_TEMPLATE_CACHE: process.env.PODFLARE_TEMPLATE_CACHE || "/var/cache/podflare-templates",
    PODFLARE_TEMPLATES: "default",
    PODFLARE_DNS_UPSTREAM: "none",
    PODFLARE_POOL_SIZE: "16",
    PODFLARE_POOL_SIZE_GB: process.env.PODFLARE_TENANTS_POOL_SIZE_GB || "6",
    PODFLARE_API_KEYS: keys.join(","),
    PODFLARE_API_KEYS_TIER: "free",
  };
  delete env.PODFLARE_API_KEY;
  delete env.PODFLARE_REGION;
  const log = fs.openSync(path.join("/tmp", "podflare-bench-tenants-hostd.log"), "w");
  const proc = spawn(process.execPath, [cli, "serve"], { env, stdio: ["ignore", log, log] });
  const url = `http://${addr}`;
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${url}/v1/healthz`)).ok) break;
    } catch {}
    if (proc.exitCode !== null || i > 6000) throw new Error("the tenants bench's hostd did not start: see /tmp/podflare-bench-tenants-hostd.log");
    await new Promise((r) => setTimeout(r, 100));
  }
  const stop = async () => {
    proc.kill("SIGTERM");
    await new Promise((r) => (proc.exitCode !== null ? r() : proc.once("exit", r)));
    spawnSync(process.execPath, [cli, "down", "--force"], { env, stdio: "ignore" });
    fs.rmSync(stateDir, { recursive: true, force: true });
  };
  return { url, keys, pid: proc.pid, stop };
}

function target() {
  const url = process.env.PODFLARE_TENANTS_URL;
  if (!url) return undefined;
  const keys = (process.env.PODFLARE_TENANTS_KEYS || "").split(",");
  if (keys.length !== 2 || keys.some((k) => !k)) throw new Error("PODFLARE_TENANTS_KEYS must name two keys, keyA,keyB");
  return { url, keys, pid: Number(process.env.PODFLARE_TENANTS_PID) || undefined, stop: async () => {} };
}

/** hostd's CPU seconds so far (user + system), from /proc. */
function cpuS(pid) {
  if (!pid) return NaN;
  const f = fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return (Number(f[11]) + Number(f[12])) / 100;
}

export async function runTenants() {
  const h = target() ?? (await ownHostd());
  const [keyA, keyB] = h.keys;
  const headers = (k) => ({ authorization: `Bearer ${k}`, "content-type": "application/json" });
  const create = async (k) => {
    const r = await fetch(`${h.url}/v1/sandboxes`, { method: "POST", body: "{}", headers: headers(k) });
    const b = await r.json();
    return { status: r.status, id: b.id };
  };
  const close = (k, id) => fetch(`${h.url}/v1/sandboxes/${id}`, { method: "DELETE", headers: headers(k) }).then((r) => r.arrayBuffer());
  const pause = (ms) => new Promise((r) => setTimeout(r, ms));
  /** A create that waits out its key's start rate (429 rate_limited, Retry-After). */
  const createPatiently = async (k) => {
    for (;;) {
      const c = await create(k);
      if (c.status === 200) return c.id;
      if (c.status !== 429) throw new Error(`create answered ${c.status}`);
      await pause(500);
    }
  };
  /** B's creates, one every 500 ms, for `ms` (create latency; each closed after). */
  const bCreates = async (ms) => {
    const out = [];
    for (const end = Date.now() + ms; Date.now() < end; await pause(500)) {
      const t0 = performance.now();
      const c = await create(keyB);
      if (c.status !== 200) throw new Error(`key B's create answered ${c.status}`);
      out.push(performance.now() - t0);
      await close(keyB, c.id);
    }
    return out;
  };
  try {
    const quietCreates = await bCreates(seconds * 500);
    let made = 0;
    let refused = 0;
    let stop = false;
    const churn = (async () => {
      while (!stop) {
        const c = await create(keyA);
        if (c.status === 200) {
          made++;
          await close(keyA, c.id);
        } else {
          refused++;
          await pause(50);
        }
      }
    })();
    const t0 = performance.now();
    const churnCreates = await bCreates(seconds * 1000);
    stop = true;
    await churn;
    const churnS = (performance.now() - t0) / 1000;

    const b = (await create(keyB)).id;
    const bExecs = async (n) => {
      const out = [];
      for (let i = 0; i < n; i++, await pause(100)) {
        const t = performance.now();
        await (await fetch(`${h.url}/v1/sandboxes/${b}/exec`, { method: "POST", body: JSON.stringify({ code: "print(1)" }), headers: headers(keyB) })).text();
        out.push(performance.now() - t);
      }
      return out;
    };
    await bExecs(10);
    const quietExecs = await bExecs(seconds * 2);
    const printers = [(await create(keyA)).id, (await create(keyA)).id, (await create(keyA)).id];
    const flood = 'import sys\nblock = ("x" * 1023 + "\\n") * 1024\nwhile True:\n    sys.stdout.write(block)\n';
    const ctl = new AbortController();
    let bytes = 0;
    const reading = printers.map(async (id) => {
      try {
        const r = await fetch(`${h.url}/v1/sandboxes/${id}/exec`, { method: "POST", body: JSON.stringify({ code: flood }), headers: headers(keyA), signal: ctl.signal });
        for await (const chunk of r.body) bytes += chunk.length;
      } catch {}
    });
    await pause(3000); // past the pace's burst
    const [bytes0, cpu0, at0] = [bytes, cpuS(h.pid), performance.now()];
    const floodExecs = await bExecs(seconds * 2);
    const floodS = (performance.now() - at0) / 1000;
    const relayedMbS = (bytes - bytes0) / 1e6 / floodS;
    const hostdCores = (cpuS(h.pid) - cpu0) / floodS;
    ctl.abort();
    for (const id of printers) await close(keyA, id);
    await Promise.all(reading);

    // CPU: B times a fixed loop inside its sandbox, alone and while A's four sandboxes spin.
    const spinners = [];
    for (let i = 0; i < 4; i++) spinners.push(await createPatiently(keyA));
    const task = "import time\nt = time.perf_counter()\nn = 0\nfor i in range(4_000_000):\n    n += i\nprint(time.perf_counter() - t)";
    const bTask = async (n) => {
      const out = [];
      for (let i = 0; i < n; i++) {
        const r = await fetch(`${h.url}/v1/sandboxes/${b}/exec`, { method: "POST", body: JSON.stringify({ code: task }), headers: headers(keyB) });
        const events = (await r.text()).split("\n").filter(Boolean).map((l) => JSON.parse(l));
        out.push(Number(events.filter((e) => e.type === "stdout").map((e) => e.data).join("")) * 1000);
      }
      return out;
    };
    const quietTask = await bTask(3);
    const spin = new AbortController();
    const spinning = spinners.map((id) =>
      fetch(`${h.url}/v1/sandboxes/${id}/exec`, { method: "POST", body: JSON.stringify({ code: "while True:\n    pass", timeout_ms: 600_000 }), headers: headers(keyA), signal: spin.signal })
        .then((r) => r.text())
        .catch(() => undefined),
    );
    await pause(1000);
    const spinTask = await bTask(3);
    spin.abort();
    await Promise.all(spinning);
    for (const id of spinners) await close(keyA, id);
    await close(keyB, b);

    const row = (name, samples, baseline) => ({ name, stats: summarize(samples), baseline: baseline && { name: "quiet", stats: summarize(baseline) } });
    const rows = [
      row("key B create, quiet", quietCreates),
      row("key B create, key A churning", churnCreates, quietCreates),
      row("key B print(1) exec, quiet", quietExecs),
      row("key B print(1) exec, key A's 3 sandboxes printing", floodExecs, quietExecs),
      row("key B's 4M-step loop (ms in its sandbox), quiet", quietTask),
      row("key B's 4M-step loop, key A's 4 sandboxes spinning", spinTask, quietTask),
    ];
    printTable(`one tenant's cost to another (${seconds} s each way; raw HTTP; free keys)`, rows);
    console.log(`  churn: key A made and closed ${made} sandboxes in ${churnS.toFixed(1)} s (${(made / churnS).toFixed(1)} a second), ${refused} creates refused`);
    console.log(`  output: ${relayedMbS.toFixed(1)} MB/s relayed to key A; hostd used ${Number.isNaN(hostdCores) ? "-" : hostdCores.toFixed(2)} cores meanwhile`);
    return {
      rows: rows.map((r) => ({ name: r.name, stats: r.stats, baseline: r.baseline?.name ?? null })),
      figures: {
        churn_starts_per_s: made / churnS,
        churn_refused: refused,
        create_p50_ratio: summarize(churnCreates).p50 / summarize(quietCreates).p50,
        output_mb_per_s: relayedMbS,
        output_hostd_cores: hostdCores,
        exec_p50_ratio: summarize(floodExecs).p50 / summarize(quietExecs).p50,
        exec_p50_added: fmt(summarize(floodExecs).p50 - summarize(quietExecs).p50),
        cpu_task_p50_ratio: summarize(spinTask).p50 / summarize(quietTask).p50,
      },
    };
  } finally {
    await h.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await runTenants();
}
