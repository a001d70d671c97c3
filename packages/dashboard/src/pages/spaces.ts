// Spaces: frozen sandboxes kept on disk; resume one (a new sandbox, once) or delete it. Behind an
// edge: every region's, with the region (a Space resumes in the region that froze it).
import { call, type EdgeList } from "../api.js";
import { ago, h, mib, mount } from "../dom.js";
import { downNotice, loadRegions, regionOf, type RegionInfo } from "../regions.js";

interface SpaceInfo {
  space_id: string;
  source_id: string;
  template: string;
  created_at: string;
  reason: string;
  bytes: number;
}

export async function spacesPage(go: (hash: string) => void, fail: (err: unknown) => void): Promise<void> {
  const error = h("p", { class: "error", id: "spaces-error" });
  const body = h("tbody", { id: "space-rows" });
  let regions: RegionInfo[] | null = null;
  let notice = downNotice("regions-down", null);
  const refresh = async () => {
    const [{ spaces, regions_missing }, r] = await Promise.all([call<{ spaces: SpaceInfo[] } & EdgeList>("GET", "/v1/spaces"), loadRegions()]);
    regions = r;
    const fresh = downNotice("regions-down", regions, regions_missing);
    notice.replaceWith(fresh);
    notice = fresh;
    body.replaceChildren(
      ...(spaces.length === 0
        ? [h("tr", {}, h("td", { colspan: regions ? "7" : "6", class: "muted" }, "No Spaces. Freeze a sandbox from its console to keep it."))]
        : spaces.map((s) =>
            h("tr", { "data-id": s.space_id },
              h("td", {}, h("span", { class: "mono" }, s.space_id)),
              regions ? h("td", { class: "region" }, regionOf(s.space_id, regions)) : null,
              h("td", {}, h("span", { class: "mono" }, s.source_id)),
              h("td", {}, s.template),
              h("td", {}, `${ago(s.created_at)} (${s.reason})`),
              h("td", {}, mib(s.bytes)),
              h("td", {}, h("div", { class: "actions" },
                h("button", { class: "resume", onclick: () => void resume(s.space_id) }, "Resume"),
                h("button", { class: "danger delete", onclick: () => void remove(s.space_id) }, "Delete"),
              )),
            ),
          )),
    );
  };
  const resume = async (id: string) => {
    try {
      const made = await call<{ id: string }>("POST", `/v1/spaces/${encodeURIComponent(id)}/resume`, {});
      go(`#/sandboxes/${made.id}`);
    } catch (err) {
      error.textContent = (err as Error).message;
    }
  };
  const remove = async (id: string) => {
    try {
      await call("DELETE", `/v1/spaces/${encodeURIComponent(id)}`);
      await refresh();
    } catch (err) {
      error.textContent = (err as Error).message;
    }
  };
  try {
    await refresh();
  } catch (err) {
    fail(err);
    return;
  }
  mount(
    h("h1", {}, "Spaces"),
    error,
    notice,
    h("table", {},
      h("thead", {}, h("tr", {}, ...["Space", ...(regions ? ["Region"] : []), "From", "Template", "Frozen", "Size", ""].map((t) => h("th", {}, t)))),
      body,
    ),
  );
}
