// Capacity and warm pool: the host's (admin) or the key's own (tenant) numbers.
import type { CapacityResponse } from "@podflare/protocol";
import { call } from "../api.js";
import { errorLine, h, replace } from "../dom.js";
import type { Page } from "../main.js";

export const capacityPage: Page = async (main) => {
  const body = h("div", {});
  replace(main, h("h1", {}, "Capacity"), body);
  async function refresh(): Promise<void> {
    const c = await call<CapacityResponse>("GET", "/v1/capacity");
    const card = (label: string, value: string | number) => h("div", { class: "card", "data-card": label }, h("div", { class: "muted" }, label), h("div", { class: "big" }, String(value)));
    if (c.scope === "host") {
      replace(body,
        h("div", { class: "cards" }, card("Sandboxes", `${c.sandboxes} / ${c.max_sandboxes}`)),
        h("h2", {}, "Warm pool"),
        h("div", { class: "cards" },
          card("Ready", `${c.pool.free} / ${c.pool.size}`), card("Hits", c.pool.hits), card("Misses", c.pool.misses),
          card("Hit rate", `${(c.pool.hit_rate * 100).toFixed(0)}%`), card("Refill", c.pool.refill)));
    } else {
      replace(body, h("div", { class: "cards" }, card("Tier", c.tier), card("Your sandboxes", `${c.sandboxes} / ${c.max_sandboxes}`)),
        h("p", { class: "muted" }, "The host's load and warm pool are shown to admin keys."));
    }
  }
  await refresh().catch((err: unknown) => replace(body, errorLine(err)));
  const timer = setInterval(() => void refresh().catch(() => {}), 5000);
  return () => clearInterval(timer);
};
