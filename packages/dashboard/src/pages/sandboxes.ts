// Live sandboxes: state, template, sizes, age and idle time; open a console, close one, make one.
import { call, type SandboxInfo } from "../api.js";
import { ago, h, mount } from "../dom.js";

export async function sandboxesPage(go: (hash: string) => void, fail: (err: unknown) => void): Promise<void> {
  const error = h("p", { class: "error", id: "sandboxes-error" });
  const body = h("tbody", { id: "sandbox-rows" });
  const render = (list: SandboxInfo[]) => {
    body.replaceChildren(
      ...(list.length === 0
        ? [h("tr", {}, h("td", { colspan: "7", class: "muted" }, "No sandboxes. Create one."))]
        : list.map((s) =>
            h("tr", { "data-id": s.id },
              h("td", {}, h("a", { href: `#/sandboxes/${s.id}`, class: "mono" }, s.id)),
              h("td", {}, h("span", { class: `state ${s.state}` }, s.state)),
              h("td", {}, s.template),
              h("td", {}, `${s.applied.memory_mb} MB · ${s.applied.vcpus} vCPU · ${s.applied.disk_mb} MB disk`),
              h("td", {}, ago(s.created_at)),
              h("td", {}, ago(s.last_active_at)),
              h("td", {}, h("div", { class: "actions" },
                s.state === "paused"
                  ? h("button", { class: "resume", onclick: () => void act(s.id, "resume") }, "Resume")
                  : h("button", { class: "pause", onclick: () => void act(s.id, "pause") }, "Pause"),
                h("button", { class: "danger close", onclick: () => void close(s.id) }, "Close"),
              )),
            ),
          )),
    );
  };
  const refresh = async () => {
    try {
      render((await call<{ sandboxes: SandboxInfo[] }>("GET", "/v1/sandboxes")).sandboxes);
    } catch (err) {
      fail(err);
    }
  };
  const act = async (id: string, what: "pause" | "resume") => {
    try {
      await call("POST", `/v1/sandboxes/${encodeURIComponent(id)}/${what}`);
      await refresh();
    } catch (err) {
      error.textContent = (err as Error).message;
    }
  };
  const close = async (id: string) => {
    try {
      await call("DELETE", `/v1/sandboxes/${encodeURIComponent(id)}`);
      await refresh();
    } catch (err) {
      error.textContent = (err as Error).message;
    }
  };
  const create = async (e: Event) => {
    const button = e.currentTarget as HTMLButtonElement;
    button.disabled = true;
    try {
      const made = await call<{ id: string }>("POST", "/v1/sandboxes", {});
      go(`#/sandboxes/${made.id}`);
    } catch (err) {
      error.textContent = (err as Error).message;
      button.disabled = false;
    }
  };
  mount(
    h("div", { class: "row" }, h("h1", {}, "Sandboxes"), h("span", { class: "spacer" }), h("button", { class: "primary", id: "new-sandbox", onclick: create }, "New sandbox")),
    error,
    h("table", {},
      h("thead", {}, h("tr", {}, ...["Id", "State", "Template", "Size", "Created", "Last active", ""].map((t) => h("th", {}, t)))),
      body,
    ),
  );
  await refresh();
}
