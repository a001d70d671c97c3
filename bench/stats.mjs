// Distribution figures for benchmark samples (milliseconds).
export function summarize(samples) {
  const s = [...samples].sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
  const mean = s.reduce((a, b) => a + b, 0) / s.length;
  return { n: s.length, min: s[0], p50: q(50), p90: q(90), p95: q(95), p99: q(99), max: s[s.length - 1], mean };
}

/** A figure in its unit: milliseconds unless the row says otherwise ("MB" for memory). */
export function fmt(v, unit = "ms") {
  if (v === undefined || v === null || Number.isNaN(v)) return "-";
  if (unit === "MB") return `${v.toFixed(1)} MB`;
  const a = Math.abs(v); // differences between runs can be negative
  return a < 1 ? `${(v * 1000).toFixed(0)} µs` : a < 100 ? `${v.toFixed(2)} ms` : `${v.toFixed(0)} ms`;
}

/** Prints rows of {name, stats, baseline?} as a table with the ratio ours/baseline at p50. */
export function printTable(title, rows) {
  console.log(`\n${title}`);
  const cols = ["min", "p50", "p90", "p95", "p99", "max", "mean"];
  console.log(["scenario".padEnd(52), ...cols.map((c) => c.padStart(9)), "n".padStart(5), "  vs baseline (p50)"].join(" "));
  for (const r of rows) {
    const st = r.stats;
    const ratio = r.baseline ? `  ${(st.p50 / r.baseline.stats.p50).toFixed(2)}× ${r.baseline.name}` : "";
    console.log([r.name.padEnd(52), ...cols.map((c) => fmt(st[c], r.unit).padStart(9)), String(st.n).padStart(5), ratio].join(" "));
  }
}

export async function time(fn) {
  const t0 = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t0) / 1e6;
}
