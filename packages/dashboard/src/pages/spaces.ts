// Spaces (frozen sandboxes): list, resume (into a new sandbox), delete.
import type { ListSpacesResponse, ResumeSpaceResponse } from "@podflare/protocol";
import { call } from "../api.js";
import { ago, bytes, errorLine, h, replace } from "../dom.js";
import type { Page } from "../main.js";

export const spacesPage: Page = async (main, ctx, highlight) => {
  const status = h("div", {});
  const tbody = h("tbody", {});

  async function refresh(): Promise<void> {
    const { spaces } = await call<ListSpacesResponse>("GET", "/v1/spaces");
    replace(tbody, spaces.length ? spaces.map((s) => h("tr", { "data-id": s.space_id, class: s.space_id === highlight ? "highlight" : null },
      h("td", {}, s.space_id),
      h("td", {}, s.source_id),
      h("td", {}, s.template),
      h("td", {}, s.reason),
      h("td", {}, ago(s.created_at)),
      h("td", {}, bytes(s.bytes)),
      h("td", {}, (s.manifest.saved ?? []).join(", ") || "—"),
      h("td", {},
        h("button", { "data-action": "resume", onclick: () => void act(async () => {
          const sb = await call<ResumeSpaceResponse>("POST", `/v1/spaces/${s.space_id}/resume`, {});
          ctx.go(`#/sandbox/${sb.id}`);
        }) }, "Resume"),
        h("button", { "data-action": "delete", onclick: () => void act(() => call("DELETE", `/v1/spaces/${s.space_id}`)) }, "Delete"))))
      : h("tr", {}, h("td", { colspan: 8, class: "muted" }, "No Spaces. Freeze a sandbox to keep its files and REPL state.")));
  }

  async function act(fn: () => Promise<unknown>): Promise<void> {
    try {
      await fn();
      await refresh();
    } catch (err) {
      replace(status, errorLine(err));
    }
  }

  replace(main, h("h1", {}, "Spaces"), status,
    h("table", {}, h("thead", {}, h("tr", {}, ["Space", "From", "Template", "Reason", "Age", "Size", "Saved names", ""].map((t) => h("th", {}, t)))), tbody));
  await refresh().catch((err: unknown) => replace(status, errorLine(err)));
};
