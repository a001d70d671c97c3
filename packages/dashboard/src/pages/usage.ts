// Usage per key over time, from GET /v1/usage/history (snapshots every interval_s, plus each
// key's totals now): sandbox-seconds, GB-seconds and execs as charts, and the totals as a table.
import type { UsageHistoryPoint, UsageHistoryResponse } from "@podflare/protocol";
import { call } from "../api.js";
import { colorOf, lineChart, type Series } from "../chart.js";
import { errorLine, h, replace } from "../dom.js";
import type { Page } from "../main.js";

const RANGES: [string, number][] = [["1 hour", 3_600_000], ["24 hours", 86_400_000], ["7 days", 7 * 86_400_000]];
const METRICS: [keyof UsageHistoryPoint, string][] = [["sandbox_seconds", "Sandbox-seconds"], ["gb_seconds", "GB-seconds"], ["execs", "Execs"], ["sandboxes_created", "Sandboxes created"]];

export const usagePage: Page = async (main) => {
  const range = h("select", { name: "range", "aria-label": "time range" }, RANGES.map(([label, ms]) => h("option", { value: ms, selected: ms === 86_400_000 }, label)));
  const body = h("div", {});
  range.addEventListener("change", () => void refresh());
  replace(main, h("h1", {}, "Usage"), h("div", { class: "row" }, "Over the last ", range), body);

  async function refresh(): Promise<void> {
    try {
      const since = Date.now() - Number(range.value);
      const r = await call<UsageHistoryResponse>("GET", `/v1/usage/history?since=${since}`);
      const owners = [...new Set([...r.points, ...r.current].map((p) => p.owner))].sort();
      const byOwner = (o: string) => [...r.points, ...r.current].filter((p) => p.owner === o);
      const series = (m: keyof UsageHistoryPoint): Series[] => owners.map((o) => ({ name: o, points: byOwner(o).map((p) => ({ t: Date.parse(p.at), v: Number(p[m]) })) }));
      replace(body,
        h("p", { class: "muted" }, `A point every ${r.interval_s} s while a key's totals change; the last point is now.`),
        h("div", { class: "legend" }, owners.map((o, i) => h("span", {}, legendSwatch(colorOf(i)), o))),
        h("div", { class: "cards", "data-charts": "" }, METRICS.map(([m, label]) => lineChart(label, series(m)))),
        h("h2", {}, "Totals now"),
        h("table", {}, h("thead", {}, h("tr", {}, ["Key", ...METRICS.map(([, l]) => l), "Forks"].map((t) => h("th", {}, t)))),
          h("tbody", {}, r.current.map((p) => h("tr", { "data-owner": p.owner }, h("td", {}, p.owner), METRICS.map(([m]) => h("td", {}, String(p[m]))), h("td", {}, String(p.forks)))))));
    } catch (err) {
      replace(body, errorLine(err));
    }
  }
  await refresh();
  const timer = setInterval(() => void refresh(), 30_000);
  return () => clearInterval(timer);
};

function legendSwatch(color: string): SVGSVGElement {
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("width", "10");
  svg.setAttribute("height", "10");
  const rect = document.createElementNS("http://www.w3.org/2000/svg", "rect");
  rect.setAttribute("width", "10");
  rect.setAttribute("height", "10");
  rect.setAttribute("fill", color);
  svg.appendChild(rect);
  return svg;
}
