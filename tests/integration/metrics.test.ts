// Metrics (issue 19): /metrics scraped from a real hostd of this test's own and parsed with a
// strict Prometheus text parser; who may read it; the separate PODFLARE_METRICS_ADDR bind;
// per-sandbox metrics over REST and through both SDKs, following a real allocation.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Sandbox as CodeInterpreter } from "@e2b/code-interpreter";
import { Sandbox } from "podflare";
import { api } from "../support/api.js";
import { until } from "../support/host.js";
import { ownHostd, startTestHostd, teardownStateDir, type TestHostd } from "../support/hostd-process.js";
import { parsePrometheus, sampleValue, type Family } from "../support/prometheus.js";

const { stateDir, port } = ownHostd("metrics", 26);
const metricsPort = ownHostd("metrics-bind", 27).port;
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const adminKey = "pf_admin_metrics_test_0123456789abcdef";
const userKey = "pf_user_metrics_test_0123456789abcdefgh";
const as = (key: string) => ({ authorization: `Bearer ${key}` });
let hostd: TestHostd;
const opened: string[] = [];

before(async () => {
  fs.mkdirSync(stateDir, { recursive: true });
  hostd = await startTestHostd({
    stateDir,
    port,
    env: { PODFLARE_ADMIN_KEY: adminKey, PODFLARE_API_KEYS: userKey, PODFLARE_METRICS_ADDR: `127.0.0.1:${metricsPort}`, PODFLARE_POOL_SIZE: "1" },
  });
});

after(async () => {
  for (const id of opened) await (await api("DELETE", `/v1/sandboxes/${id}`, undefined, hostd.url, as(userKey))).arrayBuffer();
  await hostd?.stop();
  teardownStateDir(stateDir);
});

async function scrape(key = adminKey): Promise<Map<string, Family>> {
  const res = await api("GET", "/metrics", undefined, hostd.url, as(key));
  const text = await res.text();
  assert.equal(res.status, 200, text);
  assert.equal(res.headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  return parsePrometheus(text);
}

async function create(): Promise<string> {
  const res = await api("POST", "/v1/sandboxes", {}, hostd.url, as(userKey));
  const body = (await res.json()) as { id: string };
  assert.equal(res.status, 200, JSON.stringify(body));
  opened.push(body.id);
  return body.id;
}

async function run(id: string, code: string): Promise<string> {
  const res = await api("POST", `/v1/sandboxes/${id}/exec`, { code }, hostd.url, as(userKey));
  const text = await res.text();
  assert.equal(res.status, 200, text);
  return text;
}

test("/metrics: no key is 401, a tenant's key 403, the admin key 200", async () => {
  const none = await api("GET", "/metrics", undefined, hostd.url);
  assert.equal(none.status, 401);
  assert.equal(((await none.json()) as { code: string }).code, "unauthorized");
  const user = await api("GET", "/metrics", undefined, hostd.url, as(userKey));
  assert.equal(user.status, 403);
  const body = (await user.json()) as { code: string; error: string };
  assert.equal(body.code, "forbidden");
  assert.match(body.error, /admin key.*PODFLARE_METRICS_ADDR/);
  await scrape();
});

test("every family has HELP and TYPE, podflare_ names, _total counters, and the issue's metrics are there", async () => {
  const families = await scrape();
  for (const f of families.values()) {
    assert.ok(f.help && f.help.length > 5, `${f.name} has no HELP`);
    assert.ok(f.type !== "untyped", `${f.name} has no TYPE`);
    assert.match(f.name, /^podflare_[a-z0-9_]+$/);
    if (f.type === "counter") assert.match(f.name, /_total$/, `counter ${f.name} must end in _total`);
    for (const s of f.samples) {
      for (const v of Object.values(s.labels)) assert.doesNotMatch(v, /sbx_|pf_/, `${s.name} has an id or a key in a label`);
    }
  }
  const want: Record<string, Family["type"]> = {
    podflare_http_requests_total: "counter",
    podflare_http_request_duration_seconds: "histogram",
    podflare_operation_duration_seconds: "histogram",
    podflare_sandboxes: "gauge",
    podflare_sandboxes_max: "gauge",
    podflare_pool_size: "gauge",
    podflare_pool_free: "gauge",
    podflare_pool_hits_total: "counter",
    podflare_pool_misses_total: "counter",
    podflare_host_cpu_seconds_total: "counter",
    podflare_host_memory_total_bytes: "gauge",
    podflare_host_memory_available_bytes: "gauge",
    podflare_pool_disk_size_bytes: "gauge",
    podflare_pool_disk_free_bytes: "gauge",
    podflare_btrfs_deleted_subvolumes: "gauge",
    podflare_network_rules: "gauge",
  };
  for (const [name, type] of Object.entries(want)) {
    assert.equal(families.get(name)?.type, type, `${name} should be a ${type}`);
  }
  for (const state of ["creating", "ready", "paused", "frozen", "closed"]) {
    assert.notEqual(sampleValue(families, "podflare_sandboxes", { state }), undefined, `no podflare_sandboxes{state="${state}"}`);
  }
  assert.ok(sampleValue(families, "podflare_pool_disk_size_bytes")! > 0);
  assert.ok(sampleValue(families, "podflare_host_memory_total_bytes")! > 0);
  assert.ok(sampleValue(families, "podflare_network_rules")! > 0, "the router's table has rules");
});

test("an exec moves the request counter, the exec histogram and the owner's counters", async () => {
  const id = await create();
  const before = await scrape();
  const labels = { method: "POST", route: "/v1/sandboxes/:id/exec", status: "200" };
  const execsBefore = sampleValue(before, "podflare_http_requests_total", labels) ?? 0;
  const opBefore = sampleValue(before, "podflare_operation_duration_seconds_count", { op: "exec", outcome: "ok" }) ?? 0;
  const ownerKey = before.get("podflare_owner_execs_total")?.samples.find((s) => s.labels.key_id?.startsWith("key_"))?.labels.key_id;
  assert.ok(ownerKey, "the tenant's usage is labelled with its key id");
  const ownerBefore = sampleValue(before, "podflare_owner_execs_total", { key_id: ownerKey })!;

  assert.match(await run(id, "print(6 * 7)"), /42/);
  const after = await scrape();
  assert.equal(sampleValue(after, "podflare_http_requests_total", labels), execsBefore + 1);
  assert.equal(sampleValue(after, "podflare_operation_duration_seconds_count", { op: "exec", outcome: "ok" }), opBefore + 1);
  assert.equal(sampleValue(after, "podflare_owner_execs_total", { key_id: ownerKey }), ownerBefore + 1);
  assert.ok(sampleValue(after, "podflare_http_request_duration_seconds_count", { method: "POST", route: "/v1/sandboxes/:id/exec" })! >= 1);
  assert.ok(sampleValue(after, "podflare_sandboxes", { state: "ready" })! >= 1);
  assert.ok(sampleValue(after, "podflare_operation_duration_seconds_count", { op: "create", outcome: "ok" })! >= 1);
  // The key itself is nowhere in the text, only its id.
  const text = await (await api("GET", "/metrics", undefined, hostd.url, as(adminKey))).text();
  assert.ok(!text.includes(userKey) && !text.includes(adminKey));
});

test("E2B SDK traffic is counted under its E2B route patterns, never under raw paths", async () => {
  const logFrom = hostd.log().length; // the log file is appended to by every run on this port
  const env = { url: process.env.E2B_API_URL, sandbox: process.env.E2B_SANDBOX_URL, key: process.env.E2B_API_KEY };
  process.env.E2B_API_URL = process.env.E2B_SANDBOX_URL = hostd.url;
  process.env.E2B_API_KEY = userKey;
  const sbx = await CodeInterpreter.create("base");
  try {
    assert.deepEqual((await sbx.runCode("print(6 * 7)")).logs.stdout, ["42\n"]);
    assert.equal((await sbx.commands.run("true")).exitCode, 0);
    // Paths nobody serves: a label per raw path would let a caller grow /metrics without bound.
    const odd = await api("GET", "/v2/sandboxes/sbx_x/odd-path-6e1f", undefined, hostd.url, { "x-api-key": userKey });
    assert.equal(odd.status, 501, await odd.text());
    const rpc = await api("POST", "/process.Process/Bogus6e1f", {}, hostd.url, { "x-api-key": userKey, "e2b-sandbox-id": sbx.sandboxId, "e2b-sandbox-port": "49983" });
    assert.ok(rpc.status >= 400, `an unknown RPC method answered ${rpc.status}`);
    await rpc.arrayBuffer();
  } finally {
    await sbx.kill();
    for (const [k, v] of Object.entries({ E2B_API_URL: env.url, E2B_SANDBOX_URL: env.sandbox, E2B_API_KEY: env.key })) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
  const after = await scrape();
  const routes = new Set(after.get("podflare_http_requests_total")!.samples.map((x) => x.labels.route ?? ""));
  for (const r of ["e2b /v2/sandboxes", "e2b code-interpreter /execute", "e2b envd /process.Process/Start", "e2b /sandboxes/:id", "e2b unsupported"]) {
    assert.ok(routes.has(r), `no requests counted under ${r}; routes seen: ${[...routes].join(", ")}`);
  }
  assert.ok(![...routes].some((r) => r.includes("6e1f") || r.includes("sbx_")), `a raw path became a label: ${[...routes].join(", ")}`);

  // The request log names the caller of E2B traffic as it does of REST calls: by key id.
  const userKeyId = `key_${crypto.createHash("sha256").update(userKey).digest("hex").slice(0, 16)}`;
  await until(async () => (e2bLogLines(logFrom).some((l) => l.route === "e2b unsupported") ? true : undefined), "the E2B requests' log lines");
  const lines = e2bLogLines(logFrom);
  for (const r of ["e2b /v2/sandboxes", "e2b code-interpreter /execute", "e2b envd /process.Process/Start", "e2b unsupported"]) {
    const mine = lines.filter((l) => l.route === r);
    assert.ok(mine.length > 0, `no log line for ${r}`);
    for (const l of mine) assert.equal(l.key_id, userKeyId, `${r}: ${JSON.stringify(l)}`);
  }
  assert.ok(!hostd.log().includes(userKey), "the key itself is never logged");
});

function e2bLogLines(from: number): { route: string; key_id?: string }[] {
  return hostd
    .log()
    .slice(from)
    .split("\n")
    .filter((l) => l.includes('"msg":"request"') && l.includes('"route":"e2b '))
    .map((l) => JSON.parse(l) as { route: string; key_id?: string });
}

test("PODFLARE_METRICS_ADDR serves /metrics without a key, and nothing else", async () => {
  const res = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
  assert.equal(res.status, 200);
  const families = parsePrometheus(await res.text());
  assert.equal(families.get("podflare_sandboxes")?.type, "gauge");
  const other = await fetch(`http://127.0.0.1:${metricsPort}/v1/sandboxes`);
  assert.equal(other.status, 404);
  await other.arrayBuffer();
});

test("GET /v1/sandboxes/:id/metrics follows an allocation; another owner gets 404", async () => {
  const id = await create();
  const read = async () => {
    const res = await api("GET", `/v1/sandboxes/${id}/metrics`, undefined, hostd.url, as(userKey));
    const body = (await res.json()) as Record<string, number | string>;
    assert.equal(res.status, 200, JSON.stringify(body));
    return body as { id: string; state: string; cpu_usec: number; memory_bytes: number; memory_limit_bytes: number; disk_bytes: number; disk_limit_bytes: number; pids: number; ts: number };
  };
  const first = await read();
  assert.equal(first.id, id);
  assert.equal(first.state, "ready");
  assert.ok(first.pids >= 1, "the sandbox's init and REPL count");
  assert.ok(first.memory_limit_bytes > 0 && first.disk_limit_bytes > 0);
  // 200 MiB kept alive in the REPL, and some CPU burnt.
  await run(id, "keep = bytearray(200 * 1024 * 1024)\nfor i in range(0, len(keep), 4096): keep[i] = 1\nsum(range(3_000_000))");
  const grown = await until(async () => {
    const m = await read();
    return m.memory_bytes >= first.memory_bytes + 150 * 1024 * 1024 ? m : undefined;
  }, "memory_bytes to grow by the 200 MiB allocated");
  assert.ok(grown.cpu_usec > first.cpu_usec, "cpu_usec goes up");
  await run(id, "open('/root/blob', 'wb').write(b'x' * 30 * 1024 * 1024)");
  await until(async () => ((await read()).disk_bytes >= first.disk_bytes + 20 * 1024 * 1024 ? true : undefined), "disk_bytes to grow by the 30 MiB file", 60_000);
  const other = await api("GET", `/v1/sandboxes/${id}/metrics`, undefined, hostd.url, as(adminKey));
  assert.equal(other.status, 404);
  assert.equal(((await other.json()) as { code: string }).code, "sandbox_not_found");
});

test("sandbox.metrics() in the TypeScript and the Python SDK", async () => {
  const id = await create();
  const sb = await Sandbox.connect(id, { host: hostd.url, apiKey: userKey });
  const m = await sb.metrics();
  assert.equal(m.id, id);
  assert.ok(m.memoryBytes > 0 && m.pids >= 1 && m.memoryLimitBytes > 0);
  assert.ok(m.at instanceof Date);
  const py = spawnSync("/usr/bin/python3", ["-c", `
import json, sys, podflare
sb = podflare.Sandbox.connect(sys.argv[1], host=sys.argv[2], api_key=sys.argv[3])
print(json.dumps(sb.metrics()))`, id, hostd.url, userKey], { env: { ...process.env, PYTHONPATH: path.join(root, "packages/sdk-python") }, encoding: "utf8" });
  assert.equal(py.status, 0, py.stderr);
  const pm = JSON.parse(py.stdout) as Record<string, unknown>;
  assert.equal(pm.id, id);
  assert.ok((pm.memory_bytes as number) > 0 && (pm.pids as number) >= 1);
});

test("the strict parser refuses what Prometheus would", () => {
  assert.throws(() => parsePrometheus("x 1\n"), /no TYPE/);
  assert.throws(() => parsePrometheus("# TYPE x gauge\nx 1\nx 2\n"), /duplicate/);
  assert.throws(() => parsePrometheus('# TYPE x gauge\nx{a="\\q"} 1\n'), /bad escape/);
  assert.throws(() => parsePrometheus('# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n'), /fall/);
  assert.throws(() => parsePrometheus('# TYPE h histogram\nh_bucket{le="1"} 1\nh_bucket{le="+Inf"} 2\nh_sum 1\nh_count 3\n'), /not its _count/);
  assert.throws(() => parsePrometheus("# TYPE x gauge\nx 1\n# TYPE y gauge\ny 1\n# TYPE x gauge\n"), /twice/);
  assert.throws(() => parsePrometheus("# TYPE x gauge\nx 1"), /newline/);
});
