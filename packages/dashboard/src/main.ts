// The dashboard's router: #/sandboxes, #/sandboxes/<id>, #/spaces, #/usage, #/keys; all need a key first.
import { ApiError } from "./api.js";
import { h } from "./dom.js";
import { consolePage } from "./pages/console.js";
import { keysPage } from "./pages/keys.js";
import { usagePage } from "./pages/usage.js";
import { spacesPage } from "./pages/spaces.js";
import { sandboxesPage } from "./pages/sandboxes.js";
import { signInPage } from "./pages/sign-in.js";
import { getKey, signOut } from "./session.js";

function go(hash: string): void {
  if (location.hash === hash) void route();
  else location.hash = hash;
}

/** A 401 mid-session (key revoked) signs out; other errors show on the page. */
function fail(err: unknown): void {
  if (err instanceof ApiError && err.status === 401) {
    signOut();
    signInPage(go, "Your key is no longer accepted; sign in again.");
    nav();
    return;
  }
  document.getElementById("app")!.replaceChildren(h("p", { class: "error" }, (err as Error).message), h("a", { href: "#/sandboxes" }, "Back to sandboxes"));
}

function nav(): void {
  const el = document.getElementById("nav")!;
  if (!getKey()) {
    el.replaceChildren();
    return;
  }
  el.replaceChildren(
    // Clicked while already there, a plain link would not reload the list: go() does.
    ...[["sandboxes", "Sandboxes"], ["spaces", "Spaces"], ["usage", "Usage"], ["keys", "Keys"]].map(([page, label]) =>
      h("a", { href: `#/${page}`, id: `nav-${page}`, onclick: (e) => { e.preventDefault(); go(`#/${page}`); } }, label!),
    ),
    h("button", { class: "link right", id: "sign-out", onclick: () => { signOut(); go("#/sign-in"); } }, "Sign out"),
  );
}

async function route(): Promise<void> {
  nav();
  if (!getKey()) {
    signInPage(go);
    return;
  }
  const m = /^#\/sandboxes\/(sbx_[0-9a-f]{32})$/.exec(location.hash);
  if (m) await consolePage(m[1]!, go, fail);
  else if (location.hash === "#/keys") await keysPage(fail);
  else if (location.hash === "#/usage") await usagePage(fail);
  else if (location.hash === "#/spaces") await spacesPage(go, fail);
  else await sandboxesPage(go, fail);
}

window.addEventListener("hashchange", () => void route());
void route();
