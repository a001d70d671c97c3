// A small SVG line chart (one line per series), drawn with DOM calls: no chart library.
const NS = "http://www.w3.org/2000/svg";
const COLORS = ["#f38020", "#1e88e5", "#43a047", "#8e24aa", "#e53935", "#00897b", "#6d4c41", "#3949ab"];

export interface Series {
  name: string;
  points: { t: number; v: number }[];
}

function el(tag: string, attrs: Record<string, string | number>, text?: string): SVGElement {
  const e = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

export function colorOf(i: number): string {
  return COLORS[i % COLORS.length]!;
}

export function lineChart(title: string, series: Series[], width = 560, height = 200): SVGSVGElement {
  const pad = { l: 52, r: 10, t: 18, b: 22 };
  const svg = el("svg", { class: "chart", width, height, viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": title }) as SVGSVGElement;
  const all = series.flatMap((s) => s.points);
  svg.appendChild(el("text", { x: pad.l, y: 12 }, title));
  if (!all.length) {
    svg.appendChild(el("text", { x: width / 2 - 30, y: height / 2 }, "no data yet"));
    return svg;
  }
  const t0 = Math.min(...all.map((p) => p.t));
  const t1 = Math.max(...all.map((p) => p.t), t0 + 1);
  const vMax = Math.max(...all.map((p) => p.v), 1);
  const x = (t: number) => pad.l + ((t - t0) / (t1 - t0)) * (width - pad.l - pad.r);
  const y = (v: number) => height - pad.b - (v / vMax) * (height - pad.t - pad.b);
  svg.appendChild(el("line", { x1: pad.l, y1: height - pad.b, x2: width - pad.r, y2: height - pad.b, stroke: "#dde1e8" }));
  svg.appendChild(el("line", { x1: pad.l, y1: pad.t, x2: pad.l, y2: height - pad.b, stroke: "#dde1e8" }));
  svg.appendChild(el("text", { x: 4, y: pad.t + 8 }, fmt(vMax)));
  svg.appendChild(el("text", { x: 4, y: height - pad.b }, "0"));
  svg.appendChild(el("text", { x: pad.l, y: height - 6 }, new Date(t0).toLocaleTimeString()));
  svg.appendChild(el("text", { x: width - pad.r - 60, y: height - 6 }, new Date(t1).toLocaleTimeString()));
  series.forEach((s, i) => {
    const pts = [...s.points].sort((a, b) => a.t - b.t);
    const d = pts.map((p, j) => `${j ? "L" : "M"}${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join(" ");
    const path = el("path", { d, fill: "none", stroke: colorOf(i), "stroke-width": 2, "data-series": s.name });
    svg.appendChild(path);
    for (const p of pts) svg.appendChild(el("circle", { cx: x(p.t).toFixed(1), cy: y(p.v).toFixed(1), r: 2.5, fill: colorOf(i) }));
  });
  return svg;
}

function fmt(v: number): string {
  return v >= 1000 ? `${(v / 1000).toFixed(1)}k` : v.toFixed(v < 10 ? 1 : 0);
}
