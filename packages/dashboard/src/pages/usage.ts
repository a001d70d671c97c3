// The calling key's usage (GET /v1/usage): sandboxes made, sandbox-seconds, GB-seconds, execs, forks.
import { call } from "../api.js";
import { h, mount } from "../dom.js";

interface Usage {
  owner: string;
  sandboxes_created: number;
  sandbox_seconds: number;
  gb_seconds: number;
  execs: number;
  forks: number;
}

export async function usagePage(fail: (err: unknown) => void): Promise<void> {
  let u: Usage;
  try {
    u = await call<Usage>("GET", "/v1/usage");
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
  );
}
