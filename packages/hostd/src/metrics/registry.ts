// A small Prometheus registry: counters, gauges and histograms with labels, rendered in the
// text exposition format 0.0.4. Ours rather than prom-client: ~150 lines, no dependency, and
// gauges read at scrape time through collect callbacks (docs/operations.md, "Metrics").

export type Labels = Record<string, string>;

type Kind = "counter" | "gauge" | "histogram";

interface Metric {
  readonly name: string;
  readonly help: string;
  readonly kind: Kind;
  render(): string[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

function escapeLabel(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

function escapeHelp(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  return String(v);
}

function labelText(labels: Labels, extra?: [string, string]): string {
  const pairs = Object.entries(labels);
  if (extra) pairs.push(extra);
  if (pairs.length === 0) return "";
  return `{${pairs.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(",")}}`;
}

/** A family's series are keyed by their label values, in the family's label order. */
abstract class Family<S> implements Metric {
  abstract readonly kind: Kind;
  protected readonly series = new Map<string, { labels: Labels; value: S }>();

  constructor(readonly name: string, readonly help: string, readonly labelNames: readonly string[]) {
    if (!NAME.test(name)) throw new Error(`bad metric name ${name}`);
    for (const l of labelNames) if (!LABEL.test(l) || l.startsWith("__") || l === "le") throw new Error(`bad label name ${l} on ${name}`);
  }

  protected slot(labels: Labels, init: () => S): { labels: Labels; value: S } {
    const ordered: Labels = {};
    for (const l of this.labelNames) {
      const v = labels[l];
      if (v === undefined) throw new Error(`${this.name} needs label ${l}`);
      ordered[l] = v;
    }
    if (Object.keys(labels).length !== this.labelNames.length) throw new Error(`${this.name} takes labels ${this.labelNames.join(",")}`);
    const key = JSON.stringify(Object.values(ordered));
    let s = this.series.get(key);
    if (!s) {
      s = { labels: ordered, value: init() };
      this.series.set(key, s);
    }
    return s;
  }

  /** Forgets every series (gauges re-read at each scrape). */
  reset(): void {
    this.series.clear();
  }

  abstract render(): string[];
}

export class Counter extends Family<{ v: number }> {
  readonly kind = "counter";

  inc(labels: Labels = {}, by = 1): void {
    if (by < 0) throw new Error(`${this.name}: a counter only goes up`);
    this.slot(labels, () => ({ v: 0 })).value.v += by;
  }

  /** Sets a counter read from elsewhere (usage kept in the store); callers keep it monotonic. */
  set(labels: Labels, v: number): void {
    this.slot(labels, () => ({ v: 0 })).value.v = v;
  }

  render(): string[] {
    return [...this.series.values()].map((s) => `${this.name}${labelText(s.labels)} ${formatValue(s.value.v)}`);
  }
}

export class Gauge extends Family<{ v: number }> {
  readonly kind = "gauge";

  set(labels: Labels, v: number): void {
    this.slot(labels, () => ({ v: 0 })).value.v = v;
  }

  render(): string[] {
    return [...this.series.values()].map((s) => `${this.name}${labelText(s.labels)} ${formatValue(s.value.v)}`);
  }
}

interface HistogramState {
  counts: number[];
  sum: number;
  count: number;
}

export class Histogram extends Family<HistogramState> {
  readonly kind = "histogram";
  readonly buckets: readonly number[];

  constructor(name: string, help: string, labelNames: readonly string[], buckets: readonly number[]) {
    super(name, help, labelNames);
    const sorted = [...buckets].sort((a, b) => a - b);
    if (sorted.length === 0 || sorted.some((b, i) => i > 0 && b === sorted[i - 1])) throw new Error(`${name}: buckets must be distinct`);
    this.buckets = sorted;
  }

  observe(labels: Labels, value: number): void {
    const s = this.slot(labels, () => ({ counts: this.buckets.map(() => 0), sum: 0, count: 0 })).value;
    for (let i = 0; i < this.buckets.length; i++) if (value <= this.buckets[i]!) s.counts[i]!++;
    s.sum += value;
    s.count++;
  }

  render(): string[] {
    const out: string[] = [];
    for (const s of this.series.values()) {
      this.buckets.forEach((b, i) => out.push(`${this.name}_bucket${labelText(s.labels, ["le", formatValue(b)])} ${s.value.counts[i]}`));
      out.push(`${this.name}_bucket${labelText(s.labels, ["le", "+Inf"])} ${s.value.count}`);
      out.push(`${this.name}_sum${labelText(s.labels)} ${formatValue(s.value.sum)}`);
      out.push(`${this.name}_count${labelText(s.labels)} ${s.value.count}`);
    }
    return out;
  }
}

/** Seconds buckets from 1 ms to 60 s: API calls, execs, creates, forks, freezes. */
export const SECONDS_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

export class Registry {
  private readonly metrics = new Map<string, Metric>();
  private readonly collectors: (() => void | Promise<void>)[] = [];

  counter(name: string, help: string, labelNames: readonly string[] = []): Counter {
    return this.add(new Counter(name, help, labelNames));
  }

  gauge(name: string, help: string, labelNames: readonly string[] = []): Gauge {
    return this.add(new Gauge(name, help, labelNames));
  }

  histogram(name: string, help: string, labelNames: readonly string[] = [], buckets: readonly number[] = SECONDS_BUCKETS): Histogram {
    return this.add(new Histogram(name, help, labelNames, buckets));
  }

  /** Runs before each render: fills gauges (and store-kept counters) from their sources. */
  onCollect(fn: () => void | Promise<void>): void {
    this.collectors.push(fn);
  }

  async render(): Promise<string> {
    for (const c of this.collectors) await c();
    const lines: string[] = [];
    for (const m of this.metrics.values()) {
      lines.push(`# HELP ${m.name} ${escapeHelp(m.help)}`, `# TYPE ${m.name} ${m.kind}`, ...m.render());
    }
    return lines.join("\n") + "\n";
  }

  private add<M extends Metric>(m: M): M {
    if (this.metrics.has(m.name)) throw new Error(`metric ${m.name} registered twice`);
    this.metrics.set(m.name, m);
    return m;
  }
}
