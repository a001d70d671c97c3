// The file browser: list a directory, go into folders, download a file, upload into the folder.
import type { DirListing } from "@podflare/protocol";
import { call, request } from "../api.js";
import { bytes, errorLine, h, replace } from "../dom.js";

export function filesPanel(id: string): HTMLElement {
  const pathInput = h("input", { name: "path", value: "/root", size: 40, "aria-label": "folder" });
  const list = h("tbody", {});
  const status = h("div", {});
  const upload = h("input", { type: "file", name: "upload", "aria-label": "upload a file" });
  const filesUrl = (p: string) => `/v1/sandboxes/${id}/files?path=${encodeURIComponent(p)}`;
  const join = (dir: string, name: string) => `${dir.replace(/\/+$/, "")}/${name}`;

  async function show(dir: string): Promise<void> {
    pathInput.value = dir;
    try {
      const listing = await call<DirListing>("GET", filesUrl(dir));
      status.replaceChildren();
      const parent = dir.replace(/\/[^/]+\/?$/, "") || "/";
      replace(list,
        dir !== "/" ? h("tr", {}, h("td", {}, h("a", { href: "#", onclick: (e: Event) => { e.preventDefault(); void show(parent); } }, "..")), h("td", {}), h("td", {}), h("td", {})) : null,
        listing.entries.sort((a, b) => a.name.localeCompare(b.name)).map((f) => h("tr", { "data-file": f.name },
          h("td", {}, f.type === "dir"
            ? h("a", { href: "#", onclick: (e: Event) => { e.preventDefault(); void show(join(dir, f.name)); } }, `${f.name}/`)
            : f.name),
          h("td", {}, f.type),
          h("td", {}, f.type === "file" ? bytes(f.size) : ""),
          h("td", {}, f.type === "file" ? h("button", { "data-action": "download", onclick: () => void download(join(dir, f.name), f.name) }, "Download") : null))));
    } catch (err) {
      replace(status, errorLine(err));
    }
  }

  async function download(p: string, name: string): Promise<void> {
    try {
      // Through fetch, so the key goes as a header; the browser then saves the blob.
      const blob = await (await request("GET", filesUrl(p))).blob();
      const url = URL.createObjectURL(blob);
      const a = h("a", { href: url, download: name });
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (err) {
      replace(status, errorLine(err));
    }
  }

  upload.addEventListener("change", () => void (async () => {
    const file = upload.files?.[0];
    if (!file) return;
    try {
      await request("PUT", filesUrl(join(pathInput.value, file.name)), file);
      upload.value = "";
      await show(pathInput.value);
    } catch (err) {
      replace(status, errorLine(err));
    }
  })());

  const go = h("form", { class: "row" }, pathInput, h("button", { type: "submit" }, "Open"), h("label", {}, "Upload here: ", upload));
  go.addEventListener("submit", (e) => {
    e.preventDefault();
    void show(pathInput.value || "/");
  });
  void show("/root");
  return h("div", { "data-panel": "files" }, go, status,
    h("table", {}, h("thead", {}, h("tr", {}, ["Name", "Type", "Size", ""].map((t) => h("th", {}, t)))), list));
}
