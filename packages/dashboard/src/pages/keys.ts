// API keys (admin only): create with a tier (the key is shown once), list, revoke.
import type { CreateKeyResponse, ListKeysResponse } from "@podflare/protocol";
import { call } from "../api.js";
import { ago, errorLine, h, replace } from "../dom.js";
import type { Page } from "../main.js";

export const keysPage: Page = async (main, ctx) => {
  if (!ctx.admin) {
    replace(main, h("h1", {}, "API keys"), h("p", { class: "notice" }, "Managing keys needs an admin key."));
    return;
  }
  const status = h("div", {});
  const tbody = h("tbody", {});
  const name = h("input", { name: "name", placeholder: "name", required: true, "aria-label": "key name" });
  const tier = h("select", { name: "tier", "aria-label": "tier" }, ["free", "pro", "scale", "enterprise"].map((t) => h("option", { value: t }, t)));
  const admin = h("input", { type: "checkbox", name: "admin" });
  const form = h("form", { class: "row", "data-form": "create-key" }, name, tier, h("label", {}, admin, " admin"), h("button", { type: "submit", class: "primary" }, "Create key"));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    void act(async () => {
      const k = await call<CreateKeyResponse>("POST", "/v1/keys", { name: name.value, tier: tier.value, admin: admin.checked });
      name.value = "";
      replace(status, h("div", { class: "notice", "data-new-key": k.id },
        h("p", {}, `Key ${k.name} (${k.tier}) created. Copy it now: it is shown only this once.`),
        h("div", { class: "secret", "data-secret": "" }, k.key)));
    }, false);
  });

  async function refresh(): Promise<void> {
    const { keys } = await call<ListKeysResponse>("GET", "/v1/keys");
    replace(tbody, keys.map((k) => h("tr", { "data-id": k.id, "data-name": k.name },
      h("td", {}, k.name), h("td", {}, k.id), h("td", {}, `${k.prefix}…`), h("td", {}, k.tier), h("td", {}, k.admin ? "admin" : ""),
      h("td", {}, ago(k.created_at)), h("td", {}, k.last_used_at ? ago(k.last_used_at) : "never"),
      h("td", { "data-col": "revoked" }, k.revoked_at ? `revoked ${ago(k.revoked_at)} ago` : "live"),
      h("td", {}, k.revoked_at ? null : h("button", { "data-action": "revoke", onclick: () => void act(() => call("DELETE", `/v1/keys/${k.id}`)) }, "Revoke")))));
  }

  async function act(fn: () => Promise<unknown>, clear = true): Promise<void> {
    try {
      if (clear) status.replaceChildren();
      await fn();
      await refresh();
    } catch (err) {
      replace(status, errorLine(err));
    }
  }

  replace(main, h("h1", {}, "API keys"), form, status,
    h("table", {}, h("thead", {}, h("tr", {}, ["Name", "Id", "Prefix", "Tier", "", "Created", "Last used", "Status", ""].map((t) => h("th", {}, t)))), tbody));
  await refresh().catch((err: unknown) => replace(status, errorLine(err)));
};
