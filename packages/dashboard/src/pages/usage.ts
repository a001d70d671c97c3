// The calling key's usage (GET /v1/usage): sandboxes made, sandbox-seconds, GB-seconds, execs, forks;
// then usage over time as charts (usage-history.ts).
import { call } from "../api.js";
import { h, mount } from "../dom.js";
import { usageHistoryPanel } from "./usage-history.js";
import { capacityTable, type RegionInfo } from "../regions.js";

interface Usage {
  owner: string;
  sandboxes_created: number;
  sandbox_seconds: number;
  gb_seconds: number;
  execs: number;
  forks: number;
}

/** GET /v1/capacity: a tenant's own count and cap, or (admin) the host's with its warm pool. */
type Capacity =
  | { scope: "owner"; tier: string; sandboxes: number; max_sandboxes: number }
  | { scope: "host"; sandboxes: number; max_sandboxes: number; pool: { size: number; free: number; hits: number; misses: number; hit_rate: number } };

/** `regions`: behind an edge, every region's capacity too (usage itself is the picked region's). */
export async function usagePage(fail: (err: unknown) => void, regions: RegionInfo[] | null = null): Promise<void> {
  let u: Usage;
  let c: Capacity;
  try {
    [u, c] = await Promise.all([call<Usage>("GET", "/v1/usage"), call<Capacity>("GET", "/v1/capacity")]);
  } catch (err) {
    fail(err);
    return;
  }
  const cell = (label: string, id: string, value: string) => h("div", { class: "card metric" }, h("div", { class: "muted" }, label), h("div", { class: "big", id }, value));
  mount(
    h("h1", {}, "Usage"),
    h("p", { class: "muted" }, "Of the key you signed in with (", h("span", { class: "mono" }, u.owner), "), running sandboxes counted up to now."),
    h("div", { class: "grid" },
      cell("Sandboxes created", "usage-created", String(u.sandboxes_created)),
      cell("Sandbox-seconds", "usage-seconds", u.sandbox_seconds.toFixed(1)),
      cell("GB-seconds", "usage-gbs", u.gb_seconds.toFixed(1)),
      cell("Execs", "usage-execs", String(u.execs)),
      cell("Fork children", "usage-forks", String(u.forks)),
    ),
    h("h2", {}, c.scope === "host" ? "This host" : `Capacity (${c.tier} tier)`),
    h("div", { class: "grid", id: "capacity" },
      cell("Sandboxes running", "capacity-sandboxes", `${c.sandboxes} of ${c.max_sandboxes}`),
      ...(c.scope === "host"
        ? [
            cell("Warm pool ready", "capacity-pool", `${c.pool.free} of ${c.pool.size}`),
            cell("Pool hits / misses", "capacity-hits", `${c.pool.hits} / ${c.pool.misses}`),
          ]
        : []),
    ),
    ...(regions ? [h("h2", {}, "Capacity per region"), capacityTable(regions)] : []),
    usageHistoryPanel(c.scope === "host", fail),
  );
}
