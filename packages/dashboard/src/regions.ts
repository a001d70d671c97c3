// Behind an edge (docs/edge.md) the dashboard shows regions: which one each sandbox or Space is
// in (from its id's tag, named by GET /v1/regions), which are down, a region for a create, and
// per-region usage, keys and capacity. Served by a hostd alone, none of this shows.
import { call } from "./api.js";
import { h } from "./dom.js";

export interface RegionInfo {
  name: string;
  healthy: boolean;
  rtt_ms: number | null;
  tag: string;
  capacity: { sandboxes: number; max_sandboxes: number; scope: string; pool?: { free: number; size: number } } | null;
  error?: string;
}

let behindEdge: Promise<boolean> | undefined;

/** Whether this page came through an edge: its own /v1/healthz says so (no key, never a 404). */
export function isEdge(): Promise<boolean> {
  behindEdge ??= fetch("/v1/healthz").then((r) => r.headers.get("x-podflare-edge") === "1", () => false);
  return behindEdge;
}

/** The edge's regions with the caller's capacity in each; null when served by a hostd. */
export async function loadRegions(): Promise<RegionInfo[] | null> {
  if (!(await isEdge())) return null;
  return (await call<{ regions: RegionInfo[] }>("GET", "/v1/regions")).regions;
}

/** The region an sbx_/spc_ id belongs to: its first 4 hex digits are the region's tag. */
export function regionOf(id: string, regions: RegionInfo[]): string {
  const tag = id.slice(4, 8);
  return regions.find((r) => r.tag === tag)?.name ?? "?";
}

/** A line naming the regions that are down or left out of a list; empty when all answered. */
export function downNotice(id: string, regions: RegionInfo[] | null, missing: string[] = []): HTMLElement {
  const left = new Set([...(regions ?? []).filter((r) => !r.healthy).map((r) => r.name), ...missing]);
  const el = h("p", { class: "error region-down", id });
  if (left.size > 0) {
    // A healthy region left out of a list refused it (most often: the key is not valid there).
    const why = [...left].map((name) => {
      const r = regions?.find((x) => x.name === name);
      return r && !r.healthy ? `${name} is down${r.error ? ` (${r.error})` : ""}` : `${name} did not answer (is this key valid there?)`;
    });
    el.textContent = `Not listed: ${why.join("; ")}. Other regions work as usual.`;
  }
  return el;
}

const PICKED = "podflare.region";

/**
 * A region picker for the pages whose data is kept per region until a shared control plane
 * exists (usage, keys): the choice is kept for the tab and sent as X-Podflare-Region.
 */
export function pickedRegion(regions: RegionInfo[]): string {
  const kept = sessionStorage.getItem(PICKED);
  const healthy = regions.filter((r) => r.healthy);
  return healthy.find((r) => r.name === kept)?.name ?? healthy[0]?.name ?? regions[0]!.name;
}

/** Above Usage and Keys behind an edge: which region is shown, and why only one. */
export function perRegionBar(regions: RegionInfo[], current: string, what: string, onPick: (name: string) => void): HTMLElement {
  return h("div", { class: "card region-bar", id: "region-bar" },
    h("div", { class: "row" }, regionPicker("region-pick", regions, current, onPick)),
    h("p", { class: "muted", id: "per-region-note" }, `${what} are kept by each region until a shared control plane exists: this shows ${current}'s. Keys must be the same at every region to work everywhere (docs/edge.md, "Keys").`),
  );
}

/** Capacity per region, from GET /v1/regions (the caller's own, or an admin's: the host's). */
export function capacityTable(regions: RegionInfo[]): HTMLElement {
  return h("table", { id: "region-capacity" },
    h("thead", {}, h("tr", {}, ...["Region", "State", "RTT", "Sandboxes running", "Warm pool ready"].map((t) => h("th", {}, t)))),
    h("tbody", {}, ...regions.map((r) =>
      h("tr", { "data-region": r.name },
        h("td", {}, r.name),
        h("td", { class: "region-state" }, r.healthy ? "up" : h("span", { class: "error" }, `down${r.error ? `: ${r.error}` : ""}`)),
        h("td", {}, r.rtt_ms === null ? "—" : `${r.rtt_ms.toFixed(1)} ms`),
        h("td", { class: "region-sandboxes" }, r.capacity ? `${r.capacity.sandboxes} of ${r.capacity.max_sandboxes}` : "—"),
        h("td", {}, r.capacity?.pool ? `${r.capacity.pool.free} of ${r.capacity.pool.size}` : "—"),
      ),
    )),
  );
}

export function regionPicker(id: string, regions: RegionInfo[], current: string, onPick: (name: string) => void): HTMLElement {
  const select = h("select", { id, onchange: (e) => {
    const name = (e.currentTarget as HTMLSelectElement).value;
    sessionStorage.setItem(PICKED, name);
    onPick(name);
  } }, ...regions.map((r) => {
    const o = h("option", { value: r.name }, r.healthy ? r.name : `${r.name} (down)`);
    if (!r.healthy) o.disabled = true;
    if (r.name === current) o.selected = true;
    return o;
  }));
  return h("label", { class: "inline" }, "Region ", select);
}
