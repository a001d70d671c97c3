// Unit tests of the bench tooling's pure logic: the run-to-run noise judgement
// (bench/compare.mjs), the report's noise and hosted sections (bench/report.mjs) and the
// iteration knobs (bench/knobs.mjs). The benchmarks themselves are not tests.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

// Compiled into tests/dist/: the repository is two levels up.
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const load = (file: string) => import(pathToFileURL(path.join(root, "bench", file)).href);

/** Deterministic samples around `center` with a relative spread (a seeded LCG, no Math.random). */
function samples(n: number, center: number, spread: number, seed: number): number[] {
  let s = seed;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    out.push(center * (1 + spread * (s / 2147483648 - 0.5)));
  }
  return out;
}

test("compare: two runs drawn from the same spread are within noise, and the interval contains 0", async () => {
  const { judge } = await load("compare.mjs");
  const r = judge(samples(100, 10, 0.4, 1), samples(100, 10, 0.4, 2));
  assert.equal(r.verdict, "within noise");
  assert.ok(r.ci[0] <= 0 && r.ci[1] >= 0, `interval ${r.ci}`);
  assert.equal(r.why, "interval contains 0");
});

test("compare: a 50% shift far outside both runs' spread differs", async () => {
  const { judge } = await load("compare.mjs");
  const r = judge(samples(50, 10, 0.1, 1), samples(50, 15, 0.1, 2));
  assert.equal(r.verdict, "differs");
  assert.ok(r.ci[0] > 0, `interval ${r.ci} should be above 0`);
  assert.ok(Math.abs(r.rel - 0.5) < 0.05, `relative difference ${r.rel}`);
});

test("compare: a real but small shift (3%) is within the stated tolerance, and a tighter tolerance flags it", async () => {
  const { judge } = await load("compare.mjs");
  const a = samples(200, 10, 0.02, 1);
  const b = samples(200, 10.3, 0.02, 2);
  const loose = judge(a, b, 0.1);
  assert.ok(loose.ci[0] > 0, "the bootstrap sees the shift");
  assert.equal(loose.verdict, "within noise");
  assert.match(loose.why, /10%/);
  assert.equal(judge(a, b, 0.01).verdict, "differs");
});

test("compare: fewer than 5 samples are judged by the tolerance alone and say so", async () => {
  const { judge } = await load("compare.mjs");
  const r = judge([10, 11, 12], [30, 31, 32]);
  assert.equal(r.ci, null);
  assert.equal(r.few_samples, true);
  assert.equal(r.verdict, "differs");
  assert.equal(judge([10, 11], [10.5, 11]).verdict, "within noise");
});

test("compare: runs are matched row by row and baseline by baseline, with each row's ratio to its baseline; a figure in one run only is listed, not judged", async () => {
  const { compareRuns } = await load("compare.mjs");
  const run = (extra: string, shift: number) => ({
    date: `d${shift}`,
    benches: {
      core: {
        rows: [
          { name: "hot exec", samples: samples(30, 1 * shift, 0.2, 3), stats: {}, baseline: "jupyter" },
          { name: extra, samples: samples(30, 5, 0.2, 4), stats: {} },
        ],
        baselines: [{ name: "jupyter", samples: samples(30, 4, 0.2, 5), stats: {} }],
      },
    },
  });
  const c = compareRuns(run("only in A", 1), run("only in B", 2));
  assert.deepEqual(c.rows.map((r: { figure: string }) => r.figure).sort(), ["core / baseline: jupyter", "core / hot exec"]);
  assert.deepEqual(c.only_in_one.sort(), ["core / only in A", "core / only in B"]);
  assert.deepEqual(c.summary, { figures: 2, within_noise: 1, differ: 1 });
  const hot = c.rows.find((r: { figure: string }) => r.figure === "core / hot exec");
  assert.equal(hot.verdict, "differs");
  assert.ok(Math.abs(hot.ratio_a - 0.25) < 0.05 && Math.abs(hot.ratio_b - 0.5) < 0.1, `ratios to the baseline ${hot.ratio_a} → ${hot.ratio_b}`);
});

test("report: shows the noise summary, each hosted figure beside ours, and the ratio to the baseline", async () => {
  const { compareRuns } = await load("compare.mjs");
  const { renderReport } = await load("report.mjs");
  const { summarize } = await load("stats.mjs");
  const pool = samples(20, 1.5, 0.2, 7);
  const bwrap = samples(20, 19, 0.2, 8);
  const results = {
    date: "2026-01-01T00:00:00Z",
    host: { cpus: 2 },
    benches: {
      core: {
        rows: [{ name: "pool-hit create, TypeScript SDK", stats: summarize(pool), samples: pool, baseline: "bwrap python3 per call" }],
        baselines: [{ name: "bwrap python3 per call", stats: summarize(bwrap), samples: bwrap }],
      },
    },
  } as Record<string, unknown>;
  results.noise = compareRuns(results, results);
  const html: string = renderReport(results);
  assert.match(html, /2 of 2 figures within noise, 0 differ/, "a run compared with itself");
  assert.match(html, /6 ms server-side/);
  assert.match(html, /188 ms in-cloud/);
  assert.match(html, /~100 ms server-side/);
  const ours = summarize(pool).p50.toFixed(2);
  assert.ok(html.includes(`pool-hit create, TypeScript SDK: <b>${ours} ms</b>`), "our pool-hit p50 beside the hosted figure");
  const ratio = (summarize(pool).p50 / summarize(bwrap).p50).toFixed(2);
  assert.ok(html.includes(`<td class="ratio">${ratio}×</td>`), "the p50 ratio to the baseline");
  assert.equal((html.match(/<svg/g) ?? []).length, 3, "percentile bars for ours and the baseline, one histogram");
});

test("knobs: PODFLARE_BENCH_QUICK=1 shrinks the counts, an explicit count wins, a bad count is refused with the fix", () => {
  const show = (env: Record<string, string>) =>
    spawnSync(process.execPath, ["--input-type=module", "-e", `const { knobs } = await import(${JSON.stringify(pathToFileURL(path.join(root, "bench/knobs.mjs")).href)}); console.log(JSON.stringify(knobs));`], {
      encoding: "utf8",
      env: { PATH: process.env.PATH ?? "", ...env },
    });
  const full = JSON.parse(show({}).stdout);
  const quick = JSON.parse(show({ PODFLARE_BENCH_QUICK: "1" }).stdout);
  assert.equal(full.coreRuns, 100);
  assert.equal(full.forkRuns, 20);
  assert.ok(quick.coreRuns < full.coreRuns && quick.forkRuns < full.forkRuns && quick.densityCount < full.densityCount);
  assert.equal(JSON.parse(show({ PODFLARE_BENCH_QUICK: "1", PODFLARE_BENCH_FORK_RUNS: "7" }).stdout).forkRuns, 7);
  const bad = show({ PODFLARE_BENCH_FORK_RUNS: "lots" });
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /PODFLARE_BENCH_FORK_RUNS=lots: give a whole number of at least 1/);
});
