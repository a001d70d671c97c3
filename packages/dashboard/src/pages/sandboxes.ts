// Live sandboxes: state, template, sizes applied, age, idle time, CPU and memory now (from
// GET /v1/sandboxes/:id/metrics where hostd has it, "—" where it answers 404), with pause,
// resume, fork and close; and a form to create one.
import type { CreateSandboxResponse, ListSandboxesResponse, SandboxInfo } from "@podflare/protocol";
import { call, request } from "../api.js";
import { ago, bytes, errorLine, h, replace } from "../dom.js";
import type { Page } from "../main.js";

/** What GET /v1/sandboxes/:id/metrics gives (the metrics route); every field optional here. */
export interface SandboxMetrics {
  cpu_percent?: number;
  memory_bytes?: number;
  memory_limit_bytes?: number;
  disk_bytes?: number;
  pids?: number;
}

export async function metricsOf(id: string): Promise<SandboxMetrics | null> {
  try {
    return (await (await request("GET", `/v1/sandboxes/${id}/metrics`)).json()) as SandboxMetrics;
  } catch {
    return null; // a hostd without the metrics route, or a sandbox gone meanwhile
  }
}

export function metricCells(m: SandboxMetrics | null): HTMLElement[] {
  const cpu = m?.cpu_percent === undefined ? "—" : `${m.cpu_percent.toFixed(1)}%`;
  const mem = m?.memory_bytes === undefined ? "—" : `${bytes(m.memory_bytes)}${m.memory_limit_bytes ? ` / ${bytes(m.memory_limit_bytes)}` : ""}`;
  return [h("td", { "data-col": "cpu" }, cpu), h("td", { "data-col": "memory" }, mem)];
}

export function sizes(s: Pick<SandboxInfo, "applied">): string {
  const a = s.applied;
  return `${a.memory_mb} MB · ${a.vcpus} vCPU · ${a.disk_mb} MB disk${a.persistent ? " · persistent" : ""}`;
}

export const sandboxesPage: Page = async (main, ctx) => {
  const status = h("div", {});
  const tbody = h("tbody", {});
  const template = h("input", { name: "template", value: "default", size: 12, "aria-label": "template" });
  const memory = h("input", { name: "memory_mb", type: "number", value: 1024, min: 128, step: 128, "aria-label": "memory MB" });
  const persistent = h("input", { name: "persistent", type: "checkbox" });
  const create = h("form", { class: "row", "data-form": "create" },
    h("label", {}, "Template ", template), h("label", {}, "Memory MB ", memory),
    h("label", {}, persistent, " persistent"),
    h("button", { type: "submit", class: "primary" }, "Create sandbox"));
  create.addEventListener("submit", (e) => {
    e.preventDefault();
    void act(async () => {
      const sb = await call<CreateSandboxResponse>("POST", "/v1/sandboxes", { template: template.value, memory_mb: Number(memory.value), persistent: persistent.checked || undefined });
      ctx.go(`#/sandbox/${sb.id}`);
    });
  });

  async function act(fn: () => Promise<unknown>): Promise<void> {
    try {
      await fn();
      await refresh();
    } catch (err) {
      replace(status, errorLine(err));
    }
  }

  async function refresh(): Promise<void> {
    const { sandboxes } = await call<ListSandboxesResponse>("GET", "/v1/sandboxes");
    const metrics = await Promise.all(sandboxes.map((s) => metricsOf(s.id)));
    replace(tbody, sandboxes.length ? sandboxes.map((s, i) => row(s, metrics[i] ?? null)) : h("tr", {}, h("td", { colspan: 9, class: "muted" }, "No live sandboxes.")));
  }

  const row = (s: SandboxInfo, m: SandboxMetrics | null) => h("tr", { "data-id": s.id },
    h("td", {}, h("a", { href: `#/sandbox/${s.id}` }, s.id)),
    h("td", {}, h("span", { class: `state state-${s.state}`, "data-col": "state" }, s.state)),
    h("td", {}, s.template),
    h("td", {}, sizes(s)),
    h("td", {}, ago(s.created_at)),
    h("td", {}, ago(s.last_active_at)),
    ...metricCells(m),
    h("td", {},
      s.state === "paused"
        ? h("button", { onclick: () => void act(() => call("POST", `/v1/sandboxes/${s.id}/resume`)), "data-action": "resume" }, "Resume")
        : h("button", { onclick: () => void act(() => call("POST", `/v1/sandboxes/${s.id}/pause`)), "data-action": "pause" }, "Pause"),
      h("button", { onclick: () => void act(() => call("POST", `/v1/sandboxes/${s.id}/fork`, { n: 1 })), "data-action": "fork" }, "Fork"),
      h("button", { onclick: () => void act(() => call("DELETE", `/v1/sandboxes/${s.id}`)), "data-action": "close" }, "Close")));

  replace(main,
    h("h1", {}, "Sandboxes"),
    create, status,
    h("table", {}, h("thead", {}, h("tr", {}, ["Id", "State", "Template", "Sizes", "Age", "Idle", "CPU", "Memory", ""].map((t) => h("th", {}, t)))), tbody));
  await refresh().catch((err: unknown) => replace(status, errorLine(err)));
  const timer = setInterval(() => void refresh().catch(() => {}), 5000);
  return () => clearInterval(timer);
};
