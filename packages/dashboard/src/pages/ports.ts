// Port links: the proxy URL of a port inside the sandbox. The proxy needs the key as a header,
// which a plain link cannot send, so "Check" fetches it here and shows the status and the start
// of the answer as text.
import { request } from "../api.js";
import { errorLine, h, replace } from "../dom.js";

export function portsPanel(id: string): HTMLElement {
  const port = h("input", { name: "port", type: "number", min: 1, max: 65535, value: 8000, "aria-label": "port" });
  const out = h("div", {});
  const url = () => `${location.origin}/v1/sandboxes/${id}/ports/${port.value}/`;
  const form = h("form", { class: "row" }, "Port ", port, h("button", { type: "submit", "data-action": "check-port" }, "Check"));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    void (async () => {
      replace(out, h("p", {}, h("code", { "data-port-url": "" }, url())));
      try {
        const res = await request("GET", `/v1/sandboxes/${id}/ports/${port.value}/`);
        const text = (await res.text()).slice(0, 2000);
        out.appendChild(h("p", {}, `HTTP ${res.status} ${res.headers.get("content-type") ?? ""}`));
        out.appendChild(h("pre", {}, text));
      } catch (err) {
        out.appendChild(errorLine(err));
      }
    })();
  });
  return h("div", { "data-panel": "ports" },
    h("p", { class: "muted" }, "Programs reach a server inside at this URL with the key as Authorization: Bearer."),
    form, out);
}
