// Live sandboxes: state, template, sizes, age and idle time, CPU and memory now; open a console,
// pause, resume, fork, close one, make one. An admin sees every key's, with the owner (actions
// stay with the owner's key: the API answers 404 for another key's sandbox). Behind an edge: every
// region's, with a Region column, a notice for a region that is down, and a region for New.
import { call, type EdgeList, type SandboxInfo, type SandboxMetrics } from "../api.js";
import { ago, h, mib, mount } from "../dom.js";
import { downNotice, loadRegions, regionOf, type RegionInfo } from "../regions.js";

/** CPU now: the share of one core used since the previous reading of the same sandbox. */
const lastCpu = new Map<string, { usec: number; at: number }>();
function cpuNow(id: string, m: SandboxMetrics | null): string {
  if (!m) return "—";
  const prev = lastCpu.get(id);
  const at = Date.now();
  lastCpu.set(id, { usec: m.cpu_usec, at });
  if (!prev || at <= prev.at) return `${(m.cpu_usec / 1e6).toFixed(2)} s`;
  return `${Math.max(0, ((m.cpu_usec - prev.usec) / 1e3 / (at - prev.at)) * 100).toFixed(1)}%`;
}

/** Where New sandbox makes one: the nearest healthy region (the edge's choice) or a named one. */
function regionChoice(regions: RegionInfo[]): HTMLElement {
  return h("label", { class: "inline" }, "in ", h("select", { id: "new-region" },
    h("option", { value: "" }, "nearest region"),
    ...regions.map((r) => {
      const o = h("option", { value: r.name }, r.healthy ? r.name : `${r.name} (down)`);
      if (!r.healthy) o.disabled = true;
      return o;
    }),
  ));
}

export async function sandboxesPage(go: (hash: string) => void, fail: (err: unknown) => void): Promise<void> {
  const error = h("p", { class: "error", id: "sandboxes-error" });
  const body = h("tbody", { id: "sandbox-rows" });
  let me = "";
  let admin = false;
  let regions: RegionInfo[] | null = null;
  try {
    const [cap, usage, r] = await Promise.all([call<{ scope: string }>("GET", "/v1/capacity"), call<{ owner: string }>("GET", "/v1/usage"), loadRegions()]);
    admin = cap.scope === "host";
    me = usage.owner;
    regions = r;
  } catch (err) {
    fail(err);
    return;
  }
  const metricsOf = (s: SandboxInfo): Promise<SandboxMetrics | null> =>
    s.owner !== undefined && s.owner !== me ? Promise.resolve(null) : call<SandboxMetrics>("GET", `/v1/sandboxes/${encodeURIComponent(s.id)}/metrics`).catch(() => null);
  let notice = downNotice("regions-down", regions);
  const columns = 9 + (admin ? 1 : 0) + (regions ? 1 : 0);
  const render = (list: SandboxInfo[], metrics: (SandboxMetrics | null)[]) => {
    body.replaceChildren(
      ...(list.length === 0
        ? [h("tr", {}, h("td", { colspan: String(columns), class: "muted" }, "No sandboxes. Create one."))]
        : list.map((s, i) =>
            h("tr", { "data-id": s.id },
              h("td", {}, h("a", { href: `#/sandboxes/${s.id}`, class: "mono" }, s.id)),
              regions ? h("td", { class: "region" }, regionOf(s.id, regions)) : null,
              h("td", {}, h("span", { class: `state ${s.state}` }, s.state)),
              h("td", {}, s.template),
              h("td", { class: "size" }, `${s.applied.memory_mb} MB · ${s.applied.vcpus} vCPU · ${s.applied.disk_mb} MB disk`),
              h("td", {}, ago(s.created_at)),
              h("td", {}, ago(s.last_active_at)),
              h("td", { class: "cpu" }, cpuNow(s.id, metrics[i] ?? null)),
              h("td", { class: "memory" }, metrics[i] ? mib(metrics[i]!.memory_bytes) : "—"),
              admin ? h("td", { class: "owner mono" }, s.owner === me ? `${s.owner ?? ""} (you)` : s.owner ?? "") : null,
              h("td", {}, s.owner !== undefined && s.owner !== me ? h("span", { class: "muted" }, "another key's") : h("div", { class: "actions" },
                s.state === "paused"
                  ? h("button", { class: "resume", onclick: () => void act(s.id, "resume") }, "Resume")
                  : h("button", { class: "pause", onclick: () => void act(s.id, "pause") }, "Pause"),
                h("button", { class: "fork", onclick: () => void act(s.id, "fork") }, "Fork"),
                h("button", { class: "danger close", onclick: () => void close(s.id) }, "Close"),
              )),
            ),
          )),
    );
  };
  const refresh = async () => {
    try {
      const [{ sandboxes, regions_missing }, r] = await Promise.all([
        call<{ sandboxes: SandboxInfo[] } & EdgeList>("GET", admin ? "/v1/sandboxes?all=true" : "/v1/sandboxes"),
        regions ? loadRegions() : Promise.resolve(null),
      ]);
      if (r) regions = r;
      const fresh = downNotice("regions-down", regions, regions_missing);
      notice.replaceWith(fresh);
      notice = fresh;
      render(sandboxes, await Promise.all(sandboxes.map(metricsOf)));
    } catch (err) {
      fail(err);
    }
  };
  const act = async (id: string, what: "pause" | "resume" | "fork") => {
    try {
      await call("POST", `/v1/sandboxes/${encodeURIComponent(id)}/${what}`, what === "fork" ? { n: 1 } : undefined);
      await refresh();
    } catch (err) {
      error.textContent = (err as Error).message;
    }
  };
  const close = async (id: string) => {
    try {
      await call("DELETE", `/v1/sandboxes/${encodeURIComponent(id)}`);
      await refresh();
    } catch (err) {
      error.textContent = (err as Error).message;
    }
  };
  const create = async (e: Event) => {
    const button = e.currentTarget as HTMLButtonElement;
    button.disabled = true;
    try {
      const region = (document.getElementById("new-region") as HTMLSelectElement | null)?.value;
      const made = await call<{ id: string }>("POST", "/v1/sandboxes", region ? { region } : {});
      go(`#/sandboxes/${made.id}`);
    } catch (err) {
      error.textContent = (err as Error).message;
      button.disabled = false;
    }
  };
  // The list loads slower than a console: if the user (or sign-in) moved on meanwhile, this
  // late render must not replace the page they are on.
  if (/^#\/(sandboxes\/|spaces|keys|usage|sign-in)/.test(location.hash)) return;
  mount(
    h("div", { class: "row" }, h("h1", {}, "Sandboxes"), h("span", { class: "spacer" }), regions ? regionChoice(regions) : null, h("button", { class: "primary", id: "new-sandbox", onclick: create }, "New sandbox")),
    error,
    notice,
    h("table", {},
      h("thead", {}, h("tr", {}, ...["Id", ...(regions ? ["Region"] : []), "State", "Template", "Size", "Created", "Last active", "CPU", "Memory", ...(admin ? ["Owner"] : []), ""].map((t) => h("th", {}, t)))),
      body,
    ),
  );
  await refresh();
  // Every 5 s while the page is shown (CPU now needs two readings).
  const timer = setInterval(() => (body.isConnected ? void refresh() : clearInterval(timer)), 5000);
}
