// One sandbox: its details and actions (pause, resume, freeze to a Space, close), a console
// (python or bash, output streamed from the NDJSON exec stream, rich results and errors), a
// file browser and its port links.
import type { SandboxInfo, SpaceInfo } from "@podflare/protocol";
import { call } from "../api.js";
import { ago, errorLine, h, replace } from "../dom.js";
import type { Page } from "../main.js";
import { consolePanel } from "./console.js";
import { filesPanel } from "./files.js";
import { portsPanel } from "./ports.js";
import { metricsOf, sizes } from "./sandboxes.js";

export const sandboxPage: Page = async (main, ctx, id) => {
  const status = h("div", {});
  const details = h("div", { class: "cards" });

  async function act(fn: () => Promise<unknown>): Promise<void> {
    try {
      await fn();
      await refresh();
    } catch (err) {
      replace(status, errorLine(err));
    }
  }

  async function refresh(): Promise<void> {
    const s = await call<SandboxInfo>("GET", `/v1/sandboxes/${id}`);
    const m = await metricsOf(id);
    replace(details,
      card("State", h("span", { class: `state state-${s.state}`, "data-col": "state" }, s.state)),
      card("Template", s.template),
      card("Sizes", sizes(s)),
      card("Age", ago(s.created_at)),
      card("Idle", ago(s.last_active_at)),
      card("Address", s.network.address ?? "no egress"),
      card("CPU", m?.cpu_percent === undefined ? "—" : `${m.cpu_percent.toFixed(1)}%`),
      card("Memory", m?.memory_bytes === undefined ? "—" : `${Math.round(m.memory_bytes / 1048576)} MB`));
  }

  const actions = h("div", { class: "row" },
    h("button", { onclick: () => void act(() => call("POST", `/v1/sandboxes/${id}/pause`)), "data-action": "pause" }, "Pause"),
    h("button", { onclick: () => void act(() => call("POST", `/v1/sandboxes/${id}/resume`)), "data-action": "resume" }, "Resume"),
    h("button", {
      "data-action": "freeze",
      onclick: () => void act(async () => {
        const space = await call<SpaceInfo & { space_id: string }>("POST", `/v1/sandboxes/${id}/freeze`);
        ctx.go(`#/spaces/${space.space_id}`);
      }),
    }, "Freeze to a Space"),
    h("button", { "data-action": "close", onclick: () => void act(async () => {
      await call("DELETE", `/v1/sandboxes/${id}`);
      ctx.go("#/sandboxes");
    }) }, "Close"));

  replace(main,
    h("h1", {}, "Sandbox ", h("code", {}, id)),
    actions, status, details,
    h("h2", {}, "Console"), consolePanel(id),
    h("h2", {}, "Files"), filesPanel(id),
    h("h2", {}, "Ports"), portsPanel(id));
  try {
    await refresh();
  } catch (err) {
    replace(status, errorLine(err));
  }
  const timer = setInterval(() => void refresh().catch(() => {}), 5000);
  return () => clearInterval(timer);
};

function card(label: string, value: Node | string): HTMLElement {
  return h("div", { class: "card" }, h("div", { class: "muted" }, label), h("div", {}, value));
}
