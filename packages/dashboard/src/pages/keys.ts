// API keys (admin keys only; others see the API's 403): create with a tier (the key is shown
// once, here), list without the keys themselves, revoke.
import { ApiError, call } from "../api.js";
import { ago, h, mount } from "../dom.js";

interface KeyInfo {
  id: string;
  name: string;
  tier: string;
  admin: boolean;
  prefix: string;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
}

const TIERS = ["free", "pro", "scale", "enterprise"];

export async function keysPage(fail: (err: unknown) => void): Promise<void> {
  const error = h("p", { class: "error", id: "keys-error" });
  const shown = h("div", { id: "new-key" });
  const body = h("tbody", { id: "key-rows" });
  const refresh = async () => {
    const { keys } = await call<{ keys: KeyInfo[] }>("GET", "/v1/keys");
    body.replaceChildren(
      ...(keys.length === 0
        ? [h("tr", {}, h("td", { colspan: "7", class: "muted" }, "No stored keys."))]
        : keys.map((k) =>
            h("tr", { "data-id": k.id },
              h("td", {}, h("span", { class: "mono" }, k.id)),
              h("td", {}, k.name),
              h("td", {}, k.tier + (k.admin ? " · admin" : "")),
              h("td", {}, h("span", { class: "mono" }, `${k.prefix}…`)),
              h("td", {}, ago(k.created_at)),
              h("td", {}, k.last_used_at ? ago(k.last_used_at) : "never"),
              h("td", {}, k.revoked_at ? h("span", { class: "muted revoked" }, "revoked") : h("button", { class: "danger revoke", onclick: () => void revoke(k.id) }, "Revoke")),
            ),
          )),
    );
  };
  const revoke = async (id: string) => {
    try {
      await call("DELETE", `/v1/keys/${encodeURIComponent(id)}`);
      await refresh();
    } catch (err) {
      error.textContent = (err as Error).message;
    }
  };
  const name = h("input", { type: "text", id: "key-name", placeholder: "name, e.g. ci" });
  const tier = h("select", { id: "key-tier" }, ...TIERS.map((t) => h("option", { value: t }, t)));
  const admin = h("input", { type: "checkbox", id: "key-admin" });
  const create = async (e: Event) => {
    e.preventDefault();
    error.textContent = "";
    try {
      const made = await call<KeyInfo & { key: string }>("POST", "/v1/keys", { name: name.value.trim() || "unnamed", tier: tier.value, admin: admin.checked });
      shown.replaceChildren(
        h("div", { class: "card shown" },
          h("p", {}, "The new key, shown this once: copy it now."),
          h("p", {}, h("code", { id: "new-key-value", class: "mono" }, made.key)),
          h("p", { class: "muted" }, "Its id (for revoking, and in logs and metrics): ", h("span", { id: "new-key-id", class: "mono" }, made.id)),
        ),
      );
      name.value = "";
      await refresh();
    } catch (err) {
      error.textContent = (err as Error).message;
    }
  };
  try {
    await refresh();
  } catch (err) {
    if (err instanceof ApiError && err.status === 403) {
      mount(h("h1", {}, "API keys"), h("p", { class: "error", id: "keys-forbidden" }, "Managing keys needs an admin key; this one is not."));
      return;
    }
    fail(err);
    return;
  }
  mount(
    h("h1", {}, "API keys"),
    h("form", { class: "row", id: "create-key", onsubmit: create },
      name, tier, h("label", { class: "inline" }, admin, " admin"),
      h("button", { class: "primary", type: "submit", id: "create-key-button" }, "Create key"),
    ),
    error,
    shown,
    h("table", {},
      h("thead", {}, h("tr", {}, ...["Id", "Name", "Tier", "Key", "Created", "Last used", ""].map((t) => h("th", {}, t)))),
      body,
    ),
  );
}
