// Shows an exec's rich results. Sandbox code is hostile: what it returns is never parsed as
// markup in the dashboard's origin. Images go in <img> as data: URLs of the declared type;
// text/html and SVG go into an <iframe sandbox> (an opaque origin, scripts off) through
// srcdoc; everything else is text.
import type { ExecErrorEvent, ExecResultEvent } from "@podflare/protocol";
import { h } from "./dom.js";

const BASE64 = /^[A-Za-z0-9+/=\s]*$/;

/** An iframe that cannot run script, reach the dashboard's origin, submit forms or navigate us. */
export function isolatedFrame(html: string, title: string): HTMLIFrameElement {
  const frame = h("iframe", { sandbox: "", title, referrerpolicy: "no-referrer" });
  frame.srcdoc = html;
  return frame;
}

export function renderResult(ev: ExecResultEvent): HTMLElement {
  const box = h("div", { class: "result", "data-mime": Object.keys(ev.data).join(" ") });
  const d = ev.data;
  for (const mime of ["image/png", "image/jpeg"] as const) {
    const b64 = d[mime];
    if (b64 !== undefined && BASE64.test(b64)) {
      box.appendChild(h("img", { src: `data:${mime};base64,${b64.replace(/\s/g, "")}`, alt: d["text/plain"] ?? mime }));
      return box;
    }
  }
  if (d["text/html"] !== undefined) {
    box.appendChild(isolatedFrame(d["text/html"], "HTML result (sandboxed)"));
    return box;
  }
  if (d["image/svg+xml"] !== undefined) {
    box.appendChild(isolatedFrame(d["image/svg+xml"], "SVG result (sandboxed)"));
    return box;
  }
  const text = d["text/markdown"] ?? d["application/json"] ?? d["text/latex"] ?? d["text/plain"] ?? JSON.stringify(d);
  box.appendChild(h("pre", {}, text));
  return box;
}

export function renderError(ev: ExecErrorEvent): HTMLElement {
  return h("div", { class: "errorbox" }, h("strong", {}, `${ev.name}: `), ev.value);
}
