// A self-contained HTML report of a bench/results/<date>.json: per scenario, ours beside its
// baseline with the p50 ratio, percentile bars and a distribution histogram (inline SVG, no
// scripts); the hosted service's published figures beside ours; and, when the file carries one
// (bench/compare.mjs, `npm run bench -- --runs 2`), the run-to-run noise comparison.
// Usage: node bench/report.mjs bench/results/<date>.json  → writes the .html next to it.
import fs from "node:fs";
import { hostedBeside } from "./hosted.mjs";
import { fmt } from "./stats.mjs";

const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);

function histogram(samples, unit, width = 360, height = 90, bins = 30) {
  if (!samples?.length) return "<em>no samples kept</em>";
  const sorted = [...samples].sort((a, b) => a - b);
  const lo = sorted[0];
  const hi = sorted[Math.floor(sorted.length * 0.99)] || sorted[sorted.length - 1];
  const span = hi - lo || 1;
  const counts = new Array(bins).fill(0);
  for (const v of sorted) counts[Math.min(bins - 1, Math.max(0, Math.floor(((Math.min(v, hi) - lo) / span) * bins)))]++;
  const max = Math.max(...counts);
  const bw = width / bins;
  const bars = counts
    .map((c, i) => `<rect x="${(i * bw).toFixed(1)}" y="${(height - 14 - (c / max) * (height - 18)).toFixed(1)}" width="${(bw - 1).toFixed(1)}" height="${((c / max) * (height - 18)).toFixed(1)}" fill="#3b82f6"/>`)
    .join("");
  return `<svg width="${width}" height="${height}" role="img" aria-label="histogram"><g>${bars}</g>` +
    `<text x="0" y="${height - 2}" font-size="10">${esc(fmt(lo, unit))}</text>` +
    `<text x="${width}" y="${height - 2}" font-size="10" text-anchor="end">${esc(fmt(hi, unit))} (p99)</text></svg>`;
}

function percentileBars(stats, scaleMax, unit, width = 280) {
  const rows = ["p50", "p95", "p99"].map((k, i) => {
    const w = Math.max(1, (stats[k] / (scaleMax || 1)) * (width - 100)); // room for the label after the bar
    return `<rect x="30" y="${i * 16 + 2}" width="${w.toFixed(1)}" height="12" fill="${["#16a34a", "#f59e0b", "#dc2626"][i]}"/>` +
      `<text x="0" y="${i * 16 + 12}" font-size="10">${k}</text><text x="${(34 + w).toFixed(1)}" y="${i * 16 + 12}" font-size="10">${esc(fmt(stats[k], unit))}</text>`;
  });
  return `<svg width="${width}" height="50">${rows.join("")}</svg>`;
}

function fact(v) {
  if (Array.isArray(v) && v.every((x) => typeof x === "string")) return `<ul>${v.map((x) => `<li>${esc(x)}</li>`).join("")}</ul>`;
  if (typeof v === "number") return `<b>${esc(Math.round(v * 100) / 100)}</b>`;
  if (v && typeof v === "object") return Object.entries(v).map(([k, x]) => `${esc(k)} <b>${esc(typeof x === "number" ? Math.round(x * 100) / 100 : JSON.stringify(x))}</b>`).join(", ");
  return `<b>${esc(v)}</b>`;
}

function benchSection(bench, data) {
  const baselines = new Map((data.baselines ?? []).map((b) => [b.name, b]));
  const rows = data.rows.map((r) => {
    const base = r.baseline ? baselines.get(r.baseline) : undefined;
    const scale = Math.max(r.stats.p99, base?.stats.p99 ?? 0);
    const ratio = base ? `${(r.stats.p50 / base.stats.p50).toFixed(2)}×` : "–";
    return `<tr><td>${esc(r.name)}</td><td>${percentileBars(r.stats, scale, r.unit)}</td><td>${histogram(r.samples, r.unit)}</td>` +
      `<td>${base ? `${esc(base.name)}<br>${percentileBars(base.stats, scale, base.unit)}` : "–"}</td><td class="ratio">${ratio}</td></tr>`;
  });
  const extras = Object.entries(data).filter(([k]) => k !== "rows" && k !== "baselines");
  const facts = extras.length ? `<ul>${extras.map(([k, v]) => `<li>${esc(k)}: ${fact(v)}</li>`).join("")}</ul>` : "";
  if (!rows.length) return `<h2>${esc(bench)}</h2>${facts}`;
  return `<h2>${esc(bench)}</h2>${facts}<table><tr><th>scenario</th><th>ours</th><th>distribution</th><th>baseline (same run)</th><th>p50 ours / baseline</th></tr>${rows.join("")}</table>`;
}

function hostedSection(results) {
  const rows = hostedBeside(results).map((h) =>
    `<tr><td>${esc(h.figure)}</td><td>${esc(h.published)}</td><td>${h.ours.map((o) => `${esc(o.row.split(" / ").pop())}: <b>${esc(fmt(o.value))}</b> (${h.stat})`).join("<br>")}</td></tr>`);
  return `<h2 id="hosted">Hosted Podflare — published figures, for reference</h2>
<p>Published by the hosted service and measured over the internet on its hardware, not in this run: a reference, not a baseline.</p>
<table><tr><th>figure</th><th>hosted (published)</th><th>ours in this run (end to end, this machine)</th></tr>${rows.join("")}</table>`;
}

function noiseSection(c) {
  const pct = (x) => `${x >= 0 ? "+" : ""}${(x * 100).toFixed(1)}%`;
  const rows = c.rows.map((r) =>
    `<tr class="${r.verdict === "differs" ? "differs" : ""}"><td>${esc(r.figure)}</td><td>${esc(fmt(r.a_p50, r.unit))}</td><td>${esc(fmt(r.b_p50, r.unit))}</td><td>${esc(pct(r.rel))}</td>` +
    `<td>${r.ci ? esc(`[${fmt(r.ci[0], r.unit)}, ${fmt(r.ci[1], r.unit)}]`) : "few samples"}</td><td>${Math.round(r.a_rel_iqr * 100)}% / ${Math.round(r.b_rel_iqr * 100)}%</td>` +
    `<td>${r.ratio_a != null && r.ratio_b != null ? `${r.ratio_a.toFixed(2)}× → ${r.ratio_b.toFixed(2)}×` : "–"}</td><td>${esc(r.verdict)} (${esc(r.why)})</td></tr>`);
  const s = c.summary;
  return `<h2 id="noise">Run to run: is a second run within the machine's noise?</h2>
<p>Run A ${esc(c.a)} against run B ${esc(c.b)}. Method: ${esc(c.method)}.</p>
<p class="summary"><b>${s.within_noise} of ${s.figures} figures within noise, ${s.differ} differ.</b>${c.only_in_one?.length ? ` ${c.only_in_one.length} figures appear in one run only.` : ""}</p>
<table><tr><th>figure</th><th>run A median</th><th>run B median</th><th>Δ</th><th>95% interval of Δ</th><th>IQR / median, A / B</th><th>ratio to its baseline, A → B</th><th>verdict</th></tr>${rows.join("")}</table>`;
}

export function renderReport(results) {
  const sections = Object.entries(results.benches).map(([bench, data]) => benchSection(bench, data));
  return `<!doctype html><html><head><meta charset="utf-8"><title>Podflare self-hosted benchmarks ${esc(results.date)}</title>
<style>body{font:14px system-ui,sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:6px;vertical-align:middle}th{background:#f3f4f6}.ratio{font-weight:bold;text-align:center}tr.differs td{background:#fef2f2}</style></head>
<body><h1>Podflare self-hosted — benchmarks</h1><p>${esc(results.date)} · ${esc(results.host?.cpus ?? "?")} CPUs${results.quick ? " · <b>quick run (PODFLARE_BENCH_QUICK=1): too few samples to quote</b>" : ""}${results.wall_s ? ` · ${esc(Math.round(results.wall_s))} s of benchmarks` : ""}. Every figure was measured in the same run as its baseline.</p>
${hostedSection(results)}
${results.noise ? noiseSection(results.noise) : ""}
${sections.join("\n")}</body></html>`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const file = process.argv[2];
  if (!file) {
    console.error("usage: node bench/report.mjs bench/results/<date>.json");
    process.exit(2);
  }
  const html = renderReport(JSON.parse(fs.readFileSync(file, "utf8")));
  fs.writeFileSync(file.replace(/\.json$/, ".html"), html);
  console.log(`report written to ${file.replace(/\.json$/, ".html")}`);
}
