// Sign in: the key is checked against the API (GET /v1/sandboxes) before it is kept.
import { ApiError, call } from "../api.js";
import { h, mount } from "../dom.js";
import { setKey, signOut } from "../session.js";

export function signInPage(go: (hash: string) => void, notice = ""): void {
  const input = h("input", { type: "password", id: "api-key", autocomplete: "off", placeholder: "pf_live_…" });
  const error = h("p", { class: "error", id: "sign-in-error" }, notice);
  const submit = async (e: Event) => {
    e.preventDefault();
    const key = input.value.trim();
    if (!key) {
      error.textContent = "Paste an API key (podflare keys create prints one).";
      return;
    }
    setKey(key);
    try {
      await call("GET", "/v1/sandboxes");
      go("#/sandboxes");
    } catch (err) {
      signOut();
      error.textContent = err instanceof ApiError && err.status === 401 ? "This key was refused: check it, or create one with `podflare keys create`." : `Could not sign in: ${(err as Error).message}`;
    }
  };
  mount(
    h("div", { class: "card signin" },
      h("h1", {}, "Sign in"),
      h("form", { id: "sign-in", onsubmit: submit },
        h("label", { for: "api-key" }, "API key"),
        input,
        error,
        h("div", { class: "row" }, h("button", { class: "primary", type: "submit", id: "sign-in-button" }, "Sign in")),
      ),
      h("p", { class: "muted" }, "The key stays in this tab's session storage and is sent only to this hostd's API."),
    ),
  );
  input.focus();
}
