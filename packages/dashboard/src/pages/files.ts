// A sandbox's file browser: list a directory, go into subdirectories, upload into it, download
// a file (fetched with the key, then saved from a blob: a plain link could not carry the key).
import { call } from "../api.js";
import { getKey } from "../session.js";
import { h } from "../dom.js";

interface Entry {
  name: string;
  type: "file" | "dir" | "symlink" | "other";
  size: number;
}

export function filesPanel(id: string): HTMLElement {
  const base = `/v1/sandboxes/${encodeURIComponent(id)}/files`;
  const auth = (): Record<string, string> => {
    const key = getKey();
    return key ? { authorization: `Bearer ${key}` } : {};
  };
  const path = h("input", { type: "text", id: "files-path" });
  path.value = "/root";
  const status = h("span", { class: "muted", id: "files-status" });
  const body = h("tbody", { id: "file-rows" });
  const join = (dir: string, name: string) => `${dir.replace(/\/+$/, "")}/${name}`;
  const list = async () => {
    status.textContent = "";
    try {
      const answer = await call<{ path: string; entries: Entry[] }>("GET", `${base}?path=${encodeURIComponent(path.value)}`);
      const up = answer.path === "/" ? null : answer.path.replace(/\/[^/]+\/?$/, "") || "/";
      body.replaceChildren(
        ...(up ? [h("tr", {}, h("td", {}, h("a", { href: "#", onclick: (e) => { e.preventDefault(); path.value = up; void list(); } }, "..")), h("td", {}), h("td", {}))] : []),
        ...answer.entries.map((e) =>
          h("tr", { "data-name": e.name },
            h("td", {},
              e.type === "dir"
                ? h("a", { href: "#", class: "dir", onclick: (ev) => { ev.preventDefault(); path.value = join(answer.path, e.name); void list(); } }, `${e.name}/`)
                : h("span", { class: "mono" }, e.name),
            ),
            h("td", {}, e.type === "dir" ? "" : `${e.size} B`),
            h("td", {}, e.type === "file" ? h("button", { class: "download", onclick: () => void download(join(answer.path, e.name), e.name) }, "Download") : ""),
          ),
        ),
      );
    } catch (err) {
      status.textContent = (err as Error).message;
    }
  };
  const download = async (file: string, name: string) => {
    const res = await fetch(`${base}?path=${encodeURIComponent(file)}`, { headers: auth() });
    if (!res.ok) {
      status.textContent = `download failed: ${res.status}`;
      return;
    }
    const blob = await res.blob();
    const a = h("a", { href: URL.createObjectURL(blob), download: name });
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
    status.textContent = `downloaded ${name} (${blob.size} bytes)`;
  };
  const picker = h("input", { type: "file", id: "upload-file" });
  picker.addEventListener("change", async () => {
    const file = picker.files?.[0];
    if (!file) return;
    const target = join(path.value, file.name);
    const res = await fetch(`${base}?path=${encodeURIComponent(target)}`, { method: "PUT", headers: auth(), body: file });
    picker.value = "";
    await list(); // clears the status line: say how the upload went after it
    status.textContent = res.ok ? `uploaded ${file.name} (${file.size} bytes)` : `upload failed: ${res.status}`;
  });
  const panel = h("div", { class: "card", id: "files" },
    h("h2", {}, "Files"),
    h("form", { class: "row", onsubmit: (e) => { e.preventDefault(); void list(); } }, path, h("button", { type: "submit", id: "files-go" }, "List"), h("label", { class: "inline upload" }, "Upload ", picker)),
    status,
    h("table", {}, body),
  );
  void list();
  return panel;
}
