import { test } from "node:test";
import assert from "node:assert/strict";
import { Registry } from "./registry.js";
import { routeLabel } from "./route-label.js";
import { CachedReading } from "./cached.js";
import { parseMeminfo, parseProcStat } from "./host-stats.js";

test("renders HELP, TYPE and series in the text format, labels escaped", async () => {
  const r = new Registry();
  const c = r.counter("x_total", "Things.\nCounted.", ["k"]);
  c.inc({ k: 'a"b\\c\nd' });
  c.inc({ k: 'a"b\\c\nd' }, 2);
  r.gauge("g", "A gauge.").set({}, 1.5);
  assert.equal(
    await r.render(),
    '# HELP x_total Things.\\nCounted.\n# TYPE x_total counter\nx_total{k="a\\"b\\\\c\\nd"} 3\n# HELP g A gauge.\n# TYPE g gauge\ng 1.5\n',
  );
});

test("a histogram's buckets are cumulative and end with +Inf = count", async () => {
  const r = new Registry();
  const h = r.histogram("h_seconds", "H.", ["op"], [0.1, 1]);
  for (const v of [0.05, 0.5, 0.7, 3]) h.observe({ op: "exec" }, v);
  const lines = (await r.render()).split("\n");
  assert.deepEqual(lines.slice(2, 7), [
    'h_seconds_bucket{op="exec",le="0.1"} 1',
    'h_seconds_bucket{op="exec",le="1"} 3',
    'h_seconds_bucket{op="exec",le="+Inf"} 4',
    'h_seconds_sum{op="exec"} 4.25',
    'h_seconds_count{op="exec"} 4',
  ]);
});

test("wrong labels, a falling counter and a duplicate name are refused", () => {
  const r = new Registry();
  const c = r.counter("c_total", "C.", ["a"]);
  assert.throws(() => c.inc({}), /needs label a/);
  assert.throws(() => c.inc({ a: "1", b: "2" }), /takes labels a/);
  assert.throws(() => c.inc({ a: "1" }, -1), /only goes up/);
  assert.throws(() => r.gauge("c_total", "again"), /registered twice/);
  assert.throws(() => r.gauge("bad-name", "x"), /bad metric name/);
  assert.throws(() => r.histogram("h", "x", ["le"]), /bad label name/);
});

test("collectors run before each render", async () => {
  const r = new Registry();
  const g = r.gauge("n", "N.");
  let n = 0;
  r.onCollect(() => g.set({}, ++n));
  assert.match(await r.render(), /^n 1$/m);
  assert.match(await r.render(), /^n 2$/m);
});

test("route labels carry the pattern, never an id", () => {
  assert.equal(routeLabel(/^\/v1\/sandboxes\/([^/]+)\/exec$/), "/v1/sandboxes/:id/exec");
  assert.equal(routeLabel(new RegExp("^/v1/sandboxes/([^/]+)/merge_into/([^/]+)$")), "/v1/sandboxes/:id/merge_into/:id");
  assert.equal(routeLabel(new RegExp("^/v1/sandboxes/([^/]+)/ports/([^/]*)(?:/.*)?$")), "/v1/sandboxes/:id/ports/:port/*");
  assert.equal(routeLabel(new RegExp("^/metrics$")), "/metrics");
  assert.equal(routeLabel(new RegExp("^/dashboard/(.+)$")), "/dashboard/:file");
});

test("a cached reading is read again only when stale, and concurrent gets share one read", async () => {
  let now = 0;
  let reads = 0;
  let fail = false;
  const c = new CachedReading(async () => {
    if (fail) throw new Error("tool failed");
    return ++reads;
  }, 1000, () => now);
  assert.deepEqual(await Promise.all([c.get(), c.get()]), [1, 1]);
  now = 999;
  assert.equal(await c.get(), 1);
  now = 1000;
  assert.equal(await c.get(), 2);
  fail = true;
  now = 2000;
  assert.equal(await c.get(), null);
  assert.equal(reads, 2);
});

test("/proc/stat and /proc/meminfo are read in seconds and bytes", () => {
  assert.deepEqual(parseProcStat("cpu  100 0 50 1000 0 0 0 0 0 0\ncpu0 1 2 3 4\n"), { user: 1, nice: 0, system: 0.5, idle: 10, iowait: 0, irq: 0, softirq: 0, steal: 0 });
  assert.deepEqual(parseMeminfo("MemTotal:       2048 kB\nMemFree: 1 kB\nMemAvailable:   1024 kB\n"), { total: 2048 * 1024, available: 1024 * 1024 });
});
