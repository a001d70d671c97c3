// A self-contained HTML report of a bench/results/<date>.json: per scenario, ours beside its
// baseline with the p50 ratio, percentile bars and a latency histogram (inline SVG, no scripts).
// Usage: node bench/report.mjs bench/results/<date>.json  → writes the .html next to it.
import fs from "node:fs";
import { fmt } from "./stats.mjs";

const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);

function histogram(samples, width = 360, height = 90, bins = 30) {
  if (!samples?.length) return "<em>no samples kept</em>";
  const sorted = [...samples].sort((a, b) => a - b);
  const lo = sorted[0];
  const hi = sorted[Math.floor(sorted.length * 0.99)] || sorted[sorted.length - 1];
  const span = hi - lo || 1;
  const counts = new Array(bins).fill(0);
  for (const v of sorted) counts[Math.min(bins - 1, Math.floor(((Math.min(v, hi) - lo) / span) * bins))]++;
  const max = Math.max(...counts);
  const bw = width / bins;
  const bars = counts
    .map((c, i) => `<rect x="${(i * bw).toFixed(1)}" y="${(height - 14 - (c / max) * (height - 18)).toFixed(1)}" width="${(bw - 1).toFixed(1)}" height="${((c / max) * (height - 18)).toFixed(1)}" fill="#3b82f6"/>`)
    .join("");
  return `<svg width="${width}" height="${height}" role="img" aria-label="histogram"><g>${bars}</g>` +
    `<text x="0" y="${height - 2}" font-size="10">${esc(fmt(lo))}</text>` +
    `<text x="${width}" y="${height - 2}" font-size="10" text-anchor="end">${esc(fmt(hi))} (p99)</text></svg>`;
}

function percentileBars(stats, scaleMax, width = 280) {
  const rows = ["p50", "p95", "p99"].map((k, i) => {
    const w = Math.max(1, (stats[k] / scaleMax) * (width - 100)); // room for the label after the bar
    return `<rect x="30" y="${i * 16 + 2}" width="${w.toFixed(1)}" height="12" fill="${["#16a34a", "#f59e0b", "#dc2626"][i]}"/>` +
      `<text x="0" y="${i * 16 + 12}" font-size="10">${k}</text><text x="${(34 + w).toFixed(1)}" y="${i * 16 + 12}" font-size="10">${esc(fmt(stats[k]))}</text>`;
  });
  return `<svg width="${width}" height="50">${rows.join("")}</svg>`;
}

export function renderReport(results) {
  const sections = [];
  for (const [bench, data] of Object.entries(results.benches)) {
    const baselines = new Map((data.baselines ?? []).map((b) => [b.name, b]));
    const rows = data.rows.map((r) => {
      const base = r.baseline ? baselines.get(r.baseline) : undefined;
      const scale = Math.max(r.stats.p99, base?.stats.p99 ?? 0);
      const ratio = base ? `${(r.stats.p50 / base.stats.p50).toFixed(2)}×` : "–";
      return `<tr><td>${esc(r.name)}</td><td>${percentileBars(r.stats, scale)}</td><td>${histogram(r.samples)}</td>` +
        `<td>${base ? `${esc(base.name)}<br>${percentileBars(base.stats, scale)}` : "–"}</td><td class="ratio">${ratio}</td></tr>`;
    });
    const extras = Object.entries(data).filter(([k]) => k !== "rows" && k !== "baselines");
    const facts = extras.length
      ? `<ul>${extras.map(([k, v]) => `<li>${esc(k)}: <b>${esc(typeof v === "object" ? JSON.stringify(v) : typeof v === "number" ? Math.round(v * 100) / 100 : v)}</b></li>`).join("")}</ul>`
      : "";
    if (!rows.length) {
      sections.push(`<h2>${esc(bench)}</h2>${facts}`);
      continue;
    }
    sections.push(`<h2>${esc(bench)}</h2>${facts}<table><tr><th>scenario</th><th>ours</th><th>distribution</th><th>baseline (same run)</th><th>p50 ours / baseline</th></tr>${rows.join("")}</table>`);
  }
  return `<!doctype html><html><head><meta charset="utf-8"><title>Podflare self-hosted benchmarks ${esc(results.date)}</title>
<style>body{font:14px system-ui,sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:6px;vertical-align:middle}th{background:#f3f4f6}.ratio{font-weight:bold;text-align:center}</style></head>
<body><h1>Podflare self-hosted — benchmarks</h1><p>${esc(results.date)} · ${esc(results.host?.cpus ?? "?")} CPUs. Every figure was measured in the same run as its baseline.
Hosted Podflare's published figures (over the internet, for reference only): pool hit 6 ms server-side, in-cloud full cycle p50 43 ms / p99 188 ms, fork(5) ~100 ms server-side.</p>
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
