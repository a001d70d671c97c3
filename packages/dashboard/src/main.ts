// The dashboard's shell: sign-in, the top navigation and a hash router (#/sandboxes,
// #/sandbox/<id>, #/spaces, #/keys, #/usage, #/capacity). A page is a function that fills
// `main` and may return a cleanup (stop its refresh timer).
import { probeKey, session, setUnauthorizedHandler } from "./api.js";
import { h, replace } from "./dom.js";
import { capacityPage } from "./pages/capacity.js";
import { keysPage } from "./pages/keys.js";
import { sandboxPage } from "./pages/sandbox.js";
import { sandboxesPage } from "./pages/sandboxes.js";
import { signInPage } from "./pages/signin.js";
import { spacesPage } from "./pages/spaces.js";
import { usagePage } from "./pages/usage.js";

export interface PageContext {
  admin: boolean;
  go(hash: string): void;
}
export type Page = (main: HTMLElement, ctx: PageContext, arg: string) => (() => void) | void | Promise<(() => void) | void>;

const pages: Record<string, { title: string; page: Page; admin?: boolean }> = {
  sandboxes: { title: "Sandboxes", page: sandboxesPage },
  spaces: { title: "Spaces", page: spacesPage },
  keys: { title: "API keys", page: keysPage, admin: true },
  usage: { title: "Usage", page: usagePage },
  capacity: { title: "Capacity", page: capacityPage },
};

const app = document.getElementById("app")!;
let cleanup: (() => void) | void = undefined;
let admin = false;

function go(hash: string): void {
  if (location.hash === hash) void render();
  else location.hash = hash;
}

function signOut(message?: string): void {
  session.signOut();
  void render(message);
}
setUnauthorizedHandler(() => signOut("The key was rejected (revoked or wrong): sign in again."));

async function render(message?: string): Promise<void> {
  cleanup?.();
  cleanup = undefined;
  if (!session.key()) {
    replace(app, signInPage(message, async (key) => {
      const who = await probeKey(key); // throws on a wrong key: the form shows it
      session.signIn(key);
      admin = who.admin;
      go("#/sandboxes");
    }));
    return;
  }
  const [name = "sandboxes", arg = ""] = location.hash.replace(/^#\/?/, "").split("/");
  const entry = name === "sandbox" ? { title: "Sandbox", page: sandboxPage } : pages[name] ?? pages.sandboxes!;
  const nav = h("nav", {}, Object.entries(pages)
    .filter(([, p]) => !p.admin || admin)
    .map(([k, p]) => h("a", { href: `#/${k}`, class: k === name ? "active" : null, "data-page": k }, p.title)));
  const main = h("main", { "data-page": name });
  replace(app,
    h("header", {}, h("span", { class: "brand" }, "Podflare"), nav,
      h("span", { class: "who" }, admin ? "admin key" : "tenant key"),
      h("button", { onclick: () => signOut(), "data-action": "sign-out" }, "Sign out")),
    main);
  document.title = `${entry.title} · Podflare`;
  cleanup = await entry.page(main, { admin, go }, decodeURIComponent(arg));
}

async function boot(): Promise<void> {
  const key = session.key();
  if (key) {
    try {
      admin = (await probeKey(key)).admin;
    } catch {
      session.signOut();
    }
  }
  window.addEventListener("hashchange", () => void render());
  await render();
}

void boot();
