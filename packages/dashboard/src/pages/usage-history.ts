// Usage per key over time, from GET /v1/usage/history: snapshots every interval_s while a key's
// totals change, plus each key's totals now. An admin sees every key (named from /v1/keys), a
// tenant its own. One chart per counter, one line per key.
import { call } from "../api.js";
import { colorOf, lineChart, type Series } from "../chart.js";
import { h } from "../dom.js";

interface Point {
  owner: string;
  at: string;
  sandboxes_created: number;
  sandbox_seconds: number;
  gb_seconds: number;
  execs: number;
  forks: number;
}
interface History {
  interval_s: number;
  since: string;
  points: Point[];
  current: Point[];
}
type Counter = "sandbox_seconds" | "gb_seconds" | "execs" | "sandboxes_created";

const RANGES: [string, number][] = [["1 hour", 3_600_000], ["24 hours", 86_400_000], ["7 days", 7 * 86_400_000]];
const COUNTERS: [Counter, string][] = [["sandbox_seconds", "Sandbox-seconds"], ["gb_seconds", "GB-seconds"], ["execs", "Execs"], ["sandboxes_created", "Sandboxes created"]];

/** The "over time" section of the usage page; fills itself in, and again when the range changes. */
export function usageHistoryPanel(admin: boolean, fail: (err: unknown) => void): HTMLElement {
  const range = h("select", { id: "usage-range" }, ...RANGES.map(([label, ms]) => h("option", { value: String(ms) }, label)));
  range.value = String(86_400_000);
  const body = h("div", { id: "usage-history" });
  const load = async () => {
    try {
      const since = Date.now() - Number(range.value);
      const [r, names] = await Promise.all([
        call<History>("GET", `/v1/usage/history?since=${since}`),
        admin ? call<{ keys: { id: string; name: string }[] }>("GET", "/v1/keys").then((k) => new Map(k.keys.map((x) => [x.id, x.name]))) : Promise.resolve(new Map<string, string>()),
      ]);
      const all = [...r.points, ...r.current];
      const owners = [...new Set(all.map((p) => p.owner))].sort();
      const label = (o: string) => (names.has(o) ? `${names.get(o)} (${o})` : o);
      const series = (c: Counter): Series[] => owners.map((o) => ({ name: o, points: all.filter((p) => p.owner === o).map((p) => ({ t: Date.parse(p.at), v: p[c] })) }));
      body.replaceChildren(
        h("p", { class: "muted" }, `A point every ${r.interval_s} s while a key's totals change; the last point of each line is now.`),
        h("div", { class: "legend" }, ...owners.map((o, i) => h("span", { "data-owner": o }, swatch(colorOf(i)), ` ${label(o)}`))),
        h("div", { class: "charts" }, ...COUNTERS.map(([c, title]) => lineChart(title, series(c)))),
      );
    } catch (err) {
      fail(err);
    }
  };
  range.addEventListener("change", () => void load());
  void load();
  return h("div", {}, h("div", { class: "row" }, h("h2", {}, "Over time"), h("span", { class: "spacer" }), range), body);
}

function swatch(color: string): SVGSVGElement {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("width", "10");
  svg.setAttribute("height", "10");
  const rect = document.createElementNS(ns, "rect");
  rect.setAttribute("width", "10");
  rect.setAttribute("height", "10");
  rect.setAttribute("fill", color);
  svg.appendChild(rect);
  return svg;
}
