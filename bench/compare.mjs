// Run-to-run noise: compares two bench result files figure by figure and says, for each, whether
// the difference is within the machine's noise. Method (docs/operations.md, "Benchmarks"):
// - the figure is the median (p50) of its samples;
// - a bootstrap (2000 resamples of each run's samples, fixed seed) gives a 95% interval for the
//   difference of medians, run B − run A: the spread each run shows inside itself;
// - a figure is "within noise" when that interval contains 0 (the spread explains the
//   difference), or when the difference is within the stated tolerance (default 10% of run A's
//   median): a shift that small is below what we treat as meaningful on a shared machine.
//   Otherwise it "differs". A figure with fewer than 5 samples in a run is judged by the
//   tolerance alone (a bootstrap of 2 samples says nothing) and marked so.
// Usage: node bench/compare.mjs A.json B.json [--tolerance 0.1]
//   prints the comparison and writes it into B's report (B.json gets a "noise" field, B.html is re-rendered).
import fs from "node:fs";

const RESAMPLES = 2000;
const MIN_SAMPLES = 5;

/** A small seeded generator (mulberry32), so the same two files give the same intervals. */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function quantile(sorted, p) {
  const i = (sorted.length - 1) * p;
  const lo = Math.floor(i);
  return sorted[lo] + (sorted[Math.ceil(i)] - sorted[lo]) * (i - lo);
}

/** Interquartile range over the median: the spread inside one run, for context. */
export function relativeIqr(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = quantile(s, 0.5);
  return m ? (quantile(s, 0.75) - quantile(s, 0.25)) / m : 0;
}

/** 95% bootstrap interval of median(b) − median(a). */
export function bootstrapMedianDiff(a, b, seed = 1) {
  const next = rng(seed);
  const pick = (xs) => {
    const r = new Array(xs.length);
    for (let i = 0; i < xs.length; i++) r[i] = xs[Math.floor(next() * xs.length)];
    return median(r);
  };
  const diffs = new Array(RESAMPLES);
  for (let i = 0; i < RESAMPLES; i++) diffs[i] = pick(b) - pick(a);
  diffs.sort((x, y) => x - y);
  return [quantile(diffs, 0.025), quantile(diffs, 0.975)];
}

/** Judges one figure measured in two runs (arrays of samples). */
export function judge(a, b, tolerance = 0.1) {
  const ma = median(a);
  const mb = median(b);
  const diff = mb - ma;
  const rel = ma ? diff / ma : 0;
  const fewSamples = a.length < MIN_SAMPLES || b.length < MIN_SAMPLES;
  const ci = fewSamples ? null : bootstrapMedianDiff(a, b);
  const spreadExplains = ci !== null && ci[0] <= 0 && ci[1] >= 0;
  const withinTolerance = Math.abs(rel) <= tolerance;
  return {
    a_p50: ma,
    b_p50: mb,
    diff,
    rel,
    ci,
    a_rel_iqr: relativeIqr(a),
    b_rel_iqr: relativeIqr(b),
    few_samples: fewSamples,
    verdict: spreadExplains || withinTolerance ? "within noise" : "differs",
    why: spreadExplains ? "interval contains 0" : withinTolerance ? `|Δ| ≤ ${Math.round(tolerance * 100)}%` : "outside both",
  };
}

/** Every figure with samples in a result file, keyed "bench / name" (baselines too), with its
 * p50 ratio to its same-run baseline: a load that slows a whole run moves that ratio less. */
function figures(results) {
  const out = new Map();
  for (const [bench, data] of Object.entries(results.benches ?? {})) {
    const bases = new Map((data.baselines ?? []).map((b) => [b.name, b]));
    for (const r of [...(data.rows ?? []), ...(data.baselines ?? []).map((b) => ({ ...b, name: `baseline: ${b.name}`, baseline: null }))]) {
      const base = r.baseline ? bases.get(r.baseline) : undefined;
      const ratio = base?.samples?.length && r.samples?.length ? median(r.samples) / median(base.samples) : null;
      if (r.samples?.length) out.set(`${bench} / ${r.name}`, { samples: r.samples, unit: r.unit ?? "ms", ratio });
    }
  }
  return out;
}

/** Compares two result objects; figures present in only one run are listed, not judged. */
export function compareRuns(a, b, tolerance = 0.1) {
  const fa = figures(a);
  const fb = figures(b);
  const rows = [];
  for (const [key, x] of fa) {
    const y = fb.get(key);
    if (y) rows.push({ figure: key, unit: x.unit, ...judge(x.samples, y.samples, tolerance), ratio_a: x.ratio, ratio_b: y.ratio });
  }
  const within = rows.filter((r) => r.verdict === "within noise").length;
  return {
    a: a.date,
    b: b.date,
    tolerance,
    method: `median of each run; 95% bootstrap interval (${RESAMPLES} resamples) of the difference of medians; within noise when it contains 0 or |Δ| ≤ ${Math.round(tolerance * 100)}% of run A; fewer than ${MIN_SAMPLES} samples: tolerance only`,
    rows,
    only_in_one: [...fa.keys()].filter((k) => !fb.has(k)).concat([...fb.keys()].filter((k) => !fa.has(k))),
    summary: { figures: rows.length, within_noise: within, differ: rows.length - within },
  };
}

const pct = (x) => `${x >= 0 ? "+" : ""}${(x * 100).toFixed(1)}%`;

export function printComparison(c, fmt) {
  console.log(`\nrun to run: ${c.a} vs ${c.b} (${c.method})`);
  console.log(["figure".padEnd(72), "A median".padStart(10), "B median".padStart(10), "Δ".padStart(8), "95% CI of Δ".padStart(22), "IQR A/B".padStart(12), "ratio A→B".padStart(14), "  verdict"].join(" "));
  for (const r of c.rows) {
    const ci = r.ci ? `[${fmt(r.ci[0], r.unit)}, ${fmt(r.ci[1], r.unit)}]` : "(few samples)";
    const iqr = `${Math.round(r.a_rel_iqr * 100)}/${Math.round(r.b_rel_iqr * 100)}%`;
    const ratio = r.ratio_a !== null && r.ratio_b !== null ? `${r.ratio_a.toFixed(2)}→${r.ratio_b.toFixed(2)}×` : "–";
    console.log([r.figure.slice(0, 72).padEnd(72), fmt(r.a_p50, r.unit).padStart(10), fmt(r.b_p50, r.unit).padStart(10), pct(r.rel).padStart(8), ci.padStart(22), iqr.padStart(12), ratio.padStart(14), `  ${r.verdict} (${r.why})`].join(" "));
  }
  const s = c.summary;
  console.log(`\n${s.within_noise} of ${s.figures} figures within noise, ${s.differ} differ` +
    (s.differ ? `: ${c.rows.filter((r) => r.verdict === "differs").map((r) => `${r.figure} (${pct(r.rel)})`).join("; ")}` : "") +
    (c.only_in_one.length ? `; ${c.only_in_one.length} figures in one run only` : ""));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const t = args.indexOf("--tolerance");
  const tolerance = t >= 0 ? Number(args.splice(t, 2)[1]) : 0.1;
  if (args.length !== 2 || !(tolerance > 0 && tolerance < 1)) {
    console.error("usage: node bench/compare.mjs A.json B.json [--tolerance 0.1]   (tolerance: a fraction between 0 and 1)");
    process.exit(2);
  }
  const [a, b] = args.map((f) => JSON.parse(fs.readFileSync(f, "utf8")));
  const { fmt } = await import("./stats.mjs");
  const { renderReport } = await import("./report.mjs");
  const c = compareRuns(a, b, tolerance);
  printComparison(c, fmt);
  b.noise = c;
  fs.writeFileSync(args[1], JSON.stringify(b, null, 2));
  fs.writeFileSync(args[1].replace(/\.json$/, ".html"), renderReport(b));
  console.log(`comparison written into ${args[1]} and ${args[1].replace(/\.json$/, ".html")}`);
}
