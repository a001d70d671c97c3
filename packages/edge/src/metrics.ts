// The edge's Prometheus text: per region health, probe latency and probe counts, and the
// requests it forwarded (by region, kind and status class) and the creates it failed over.
import type { RegionSet } from "./regions.js";

export class EdgeMetrics {
  private readonly requests = new Map<string, number>();
  private readonly failovers = new Map<string, number>();

  /** kind: create, id (routed by the id's tag), other, own (served by the edge itself). */
  request(region: string, kind: string, status: number): void {
    const key = `region="${region}",kind="${kind}",status="${Math.floor(status / 100)}xx"`;
    this.requests.set(key, (this.requests.get(key) ?? 0) + 1);
  }

  failover(from: string): void {
    this.failovers.set(from, (this.failovers.get(from) ?? 0) + 1);
  }

  render(regions: RegionSet): string {
    const lines: string[] = [];
    const family = (name: string, type: string, help: string) => lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    family("podflare_edge_region_healthy", "gauge", "1 when the region's last health probe succeeded");
    for (const r of regions.list) lines.push(`podflare_edge_region_healthy{region="${r.name}"} ${r.healthy ? 1 : 0}`);
    family("podflare_edge_region_rtt_ms", "gauge", "Smoothed round trip of the region's health probes, ms");
    for (const r of regions.list) if (r.rttMs !== undefined) lines.push(`podflare_edge_region_rtt_ms{region="${r.name}"} ${r.rttMs.toFixed(3)}`);
    family("podflare_edge_region_probe_ms", "gauge", "Duration of the region's last health probe, ms");
    for (const r of regions.list) if (r.lastProbeMs !== undefined) lines.push(`podflare_edge_region_probe_ms{region="${r.name}"} ${r.lastProbeMs.toFixed(3)}`);
    family("podflare_edge_probes_total", "counter", "Health probes by result");
    for (const r of regions.list) {
      lines.push(`podflare_edge_probes_total{region="${r.name}",result="ok"} ${r.probes.ok}`);
      lines.push(`podflare_edge_probes_total{region="${r.name}",result="failed"} ${r.probes.failed}`);
    }
    family("podflare_edge_requests_total", "counter", "Requests answered, by region, kind (create, id, other, own) and status class");
    for (const [k, v] of this.requests) lines.push(`podflare_edge_requests_total{${k}} ${v}`);
    family("podflare_edge_failovers_total", "counter", "Creates moved on to the next region after a connection error or 5xx");
    for (const [k, v] of this.failovers) lines.push(`podflare_edge_failovers_total{region="${k}"} ${v}`);
    return lines.join("\n") + "\n";
  }
}
