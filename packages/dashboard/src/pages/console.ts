// A sandbox console: run Python or bash and watch the output arrive as the NDJSON events do;
// CPU and memory now from GET /v1/sandboxes/:id/metrics; fork, freeze, close; its files and ports.
import { call, execStream, type ExecEvent, type SandboxInfo, type SandboxMetrics } from "../api.js";
import { h, mib, mount } from "../dom.js";
import { filesPanel } from "./files.js";
import { portsPanel } from "./ports.js";
import { loadRegions, regionOf } from "../regions.js";

export async function consolePage(id: string, go: (hash: string) => void, fail: (err: unknown) => void): Promise<void> {
  let info: SandboxInfo;
  let region = "";
  try {
    const [got, regions] = await Promise.all([call<SandboxInfo>("GET", `/v1/sandboxes/${encodeURIComponent(id)}`), loadRegions()]);
    info = got;
    if (regions) region = regionOf(id, regions);
  } catch (err) {
    fail(err);
    return;
  }
  const stats = h("div", { class: "stats", id: "sandbox-stats" });
  const showStats = async () => {
    try {
      const m = await call<SandboxMetrics>("GET", `/v1/sandboxes/${encodeURIComponent(id)}/metrics`);
      stats.replaceChildren(
        h("span", {}, "CPU ", h("b", {}, `${(m.cpu_usec / 1e6).toFixed(2)} s`)),
        h("span", {}, "Memory ", h("b", {}, mib(m.memory_bytes)), ` of ${mib(m.memory_limit_bytes)}`),
        h("span", {}, "Disk ", h("b", {}, mib(m.disk_bytes))),
        h("span", {}, "Tasks ", h("b", {}, String(m.pids))),
      );
    } catch {
      /* the sandbox closed meanwhile: the next run says so */
    }
  };
  const code = h("textarea", { id: "code", spellcheck: "false" });
  code.value = 'import platform\nprint("hello from", platform.node())';
  const language = h("select", { id: "language" }, h("option", { value: "python" }, "Python"), h("option", { value: "bash" }, "bash"));
  const output = h("pre", { class: "output", id: "output" });
  const run = h("button", { class: "primary", id: "run" }, "Run");
  const status = h("span", { class: "muted", id: "run-status" });
  run.addEventListener("click", async () => {
    run.disabled = true;
    output.replaceChildren();
    status.textContent = "running…";
    try {
      const exit = await execStream(id, code.value, language.value, (e) => {
        const node = render(e);
        if (!node) return;
        output.append(node);
        output.scrollTop = output.scrollHeight;
      });
      output.append(h("span", { class: "exit" }, `\n[exit ${exit}]`));
      status.textContent = `exit ${exit}`;
    } catch (err) {
      status.textContent = "";
      output.append(h("span", { class: "stderr" }, (err as Error).message));
    } finally {
      run.disabled = false;
      void showStats();
    }
  });
  const close = async () => {
    try {
      await call("DELETE", `/v1/sandboxes/${encodeURIComponent(id)}`);
      go("#/sandboxes");
    } catch (err) {
      status.textContent = (err as Error).message;
    }
  };
  const freeze = async () => {
    status.textContent = "freezing…";
    try {
      await call("POST", `/v1/sandboxes/${encodeURIComponent(id)}/freeze`);
      go("#/spaces");
    } catch (err) {
      status.textContent = (err as Error).message;
    }
  };
  const children = h("p", { id: "fork-children", class: "muted" });
  const fork = async () => {
    status.textContent = "forking…";
    try {
      const made = await call<{ children: string[] }>("POST", `/v1/sandboxes/${encodeURIComponent(id)}/fork`, { n: 1 });
      status.textContent = "";
      children.replaceChildren("Forked: ", ...made.children.map((c) => h("a", { href: `#/sandboxes/${c}`, class: "mono child" }, c)));
    } catch (err) {
      status.textContent = (err as Error).message;
    }
  };
  // A navigation since this page started owns the page now: a late render must not replace it.
  if (location.hash !== `#/sandboxes/${id}`) return;
  mount(
    h("div", { class: "row" },
      h("h1", {}, "Sandbox ", h("span", { class: "mono" }, id)),
      region ? h("span", { class: "muted", id: "sandbox-region" }, `in ${region}`) : null,
      h("span", { class: "spacer" }),
      h("button", { id: "fork-sandbox", onclick: fork }, "Fork"),
      h("button", { id: "freeze-sandbox", onclick: freeze }, "Freeze to a Space"),
      h("button", { class: "danger", id: "close-sandbox", onclick: close }, "Close"),
    ),
    h("p", { class: "muted" }, `${info.state} · ${info.template} · ${info.applied.memory_mb} MB · ${info.applied.vcpus} vCPU`),
    stats,
    children,
    h("div", { class: "card" },
      code,
      h("div", { class: "row" }, language, run, status),
      output,
    ),
    filesPanel(id),
    portsPanel(id),
  );
  await showStats();
}

/**
 * What an event shows: output as text; a result as its PNG or JPEG figure, else its text/plain
 * (a sandbox's HTML is never rendered); an exception as one marked line of its name and value
 * (its traceback already came on stderr).
 */
function render(e: ExecEvent): Node | null {
  switch (e.type) {
    case "stdout":
    case "stderr":
      return h("span", { class: e.type }, e.data);
    case "result": {
      for (const mime of ["image/png", "image/jpeg"]) {
        const b64 = e.data[mime];
        if (b64 && /^[A-Za-z0-9+/=\s]+$/.test(b64)) return h("img", { class: "figure", alt: e.data["text/plain"] ?? "figure", src: `data:${mime};base64,${b64.replace(/\s/g, "")}` });
      }
      return h("span", { class: "result" }, `${e.data["text/plain"] ?? ""}\n`);
    }
    case "error":
      return h("span", { class: "error-event" }, `${e.name}: ${e.value}\n`);
    default:
      return null;
  }
}
