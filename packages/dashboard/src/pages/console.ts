// The console: runs python or bash in the sandbox and shows the NDJSON stream as it arrives.
import type { ExecEvent } from "@podflare/protocol";
import { request } from "../api.js";
import { errorLine, h } from "../dom.js";
import { readEvents } from "../exec-stream.js";
import { renderError, renderResult } from "../rich.js";

export function consolePanel(id: string): HTMLElement {
  const language = h("select", { name: "language", "aria-label": "language" }, h("option", { value: "python" }, "Python"), h("option", { value: "bash" }, "bash"));
  const code = h("textarea", { name: "code", rows: 6, spellcheck: "false", "aria-label": "code" });
  code.value = "print('hello from the sandbox')";
  const output = h("div", { class: "output", "data-output": "" });
  const run = h("button", { class: "primary", "data-action": "run" }, "Run");
  const stop = h("button", { "data-action": "stop", disabled: true }, "Stop");
  let abort: AbortController | null = null;

  run.addEventListener("click", () => void (async () => {
    abort = new AbortController();
    run.disabled = true;
    stop.disabled = false;
    output.replaceChildren();
    try {
      const res = await request("POST", `/v1/sandboxes/${id}/exec`, { code: code.value, language: language.value }, {}, abort.signal);
      for await (const ev of readEvents(res)) show(ev);
    } catch (err) {
      if ((err as Error).name !== "AbortError") output.appendChild(errorLine(err));
    } finally {
      run.disabled = false;
      stop.disabled = true;
      abort = null;
    }
  })());
  // Closing the stream interrupts the code (hostd treats a gone client as a timeout).
  stop.addEventListener("click", () => abort?.abort());

  function show(ev: ExecEvent): void {
    if (ev.type === "stdout" || ev.type === "stderr") output.appendChild(h("span", { class: ev.type }, ev.data));
    else if (ev.type === "result") output.appendChild(renderResult(ev));
    else if (ev.type === "error") output.appendChild(renderError(ev));
    else if (ev.type === "exit") output.appendChild(h("span", { class: "exit", "data-exit": ev.data }, `exit ${ev.data}`));
    output.scrollTop = output.scrollHeight;
  }

  return h("div", { "data-panel": "console" }, h("div", { class: "row" }, language, run, stop), code, output);
}
