// Sign in with an API key: checked against hostd before it is kept (in sessionStorage only).
import { h, errorLine } from "../dom.js";

export function signInPage(message: string | undefined, signIn: (key: string) => Promise<void>): HTMLElement {
  const input = h("input", { type: "password", name: "key", autocomplete: "off", placeholder: "pf_live_…", "aria-label": "API key" });
  const status = h("div", { class: "status" }, message ? h("p", { class: "notice" }, message) : null);
  const form = h("form", { class: "signin", "data-page": "signin" },
    h("h1", {}, "Podflare dashboard"),
    h("p", { class: "muted" }, "Sign in with an API key. It is kept in this tab's session storage only, and sent to hostd as an Authorization header."),
    input,
    h("button", { type: "submit", class: "primary" }, "Sign in"),
    status);
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const key = input.value.trim();
    if (!key) return;
    status.replaceChildren(h("p", { class: "muted" }, "Checking the key…"));
    signIn(key).catch((err: unknown) => {
      status.replaceChildren(errorLine(err));
      input.value = "";
    });
  });
  return form;
}
