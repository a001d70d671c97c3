// The dashboard's router: #/sandboxes, #/sandboxes/<id>, #/spaces, #/usage, #/keys; all need a key first.
import { ApiError, pinRegion } from "./api.js";
import { h } from "./dom.js";
import { consolePage } from "./pages/console.js";
import { keysPage } from "./pages/keys.js";
import { usagePage } from "./pages/usage.js";
import { spacesPage } from "./pages/spaces.js";
import { sandboxesPage } from "./pages/sandboxes.js";
import { signInPage } from "./pages/sign-in.js";
import { getKey, signOut } from "./session.js";
import { loadRegions, perRegionBar, pickedRegion, type RegionInfo } from "./regions.js";

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

/**
 * Usage and keys live in each region until a shared control plane exists: behind an edge, pin
 * one region (picked on the page) for their calls and show which. Null when served by a hostd.
 */
async function pinForPage(): Promise<RegionInfo[] | null | undefined> {
  try {
    const regions = await loadRegions();
    if (regions) pinRegion(pickedRegion(regions));
    return regions;
  } catch (err) {
    fail(err);
    return undefined;
  }
}

function showRegionBar(regions: RegionInfo[] | null, what: string): void {
  if (!regions) return;
  document.getElementById("app")!.prepend(perRegionBar(regions, pickedRegion(regions), what, () => void route()));
}

async function route(): Promise<void> {
  pinRegion(undefined);
  nav();
  if (!getKey()) {
    signInPage(go);
    return;
  }
  const m = /^#\/sandboxes\/(sbx_[0-9a-f]{32})$/.exec(location.hash);
  if (m) await consolePage(m[1]!, go, fail);
  else if (location.hash === "#/keys" || location.hash === "#/usage") {
    const regions = await pinForPage();
    if (regions === undefined) return;
    if (location.hash === "#/keys") await keysPage(fail);
    else await usagePage(fail, regions);
    showRegionBar(regions, location.hash === "#/keys" ? "API keys" : "Usage and usage history");
  }
  else if (location.hash === "#/spaces") await spacesPage(go, fail);
  else await sandboxesPage(go, fail);
}

window.addEventListener("hashchange", () => void route());
void route();
