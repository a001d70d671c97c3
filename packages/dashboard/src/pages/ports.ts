// Port links: a server inside the sandbox is reached at /v1/sandboxes/:id/ports/:port/, with the
// key as a header, so a plain link (no header) would answer 401, and a key in the URL is not
// allowed. The panel shows the URL for programs, and opens the port here: fetched with the key,
// HTML shown in an <iframe sandbox> through srcdoc (an opaque origin with scripts off: the
// sandbox's page never runs in the dashboard's origin, where the key is), images as images,
// anything else as text. Redirects are not followed (the key would go where the server points).
import { getKey } from "../session.js";
import { h } from "../dom.js";

const PREVIEW_BYTES = 256 * 1024;

export function portsPanel(id: string): HTMLElement {
  const port = h("input", { type: "text", id: "port-number", inputmode: "numeric", placeholder: "8000" });
  port.value = "8000";
  const path = h("input", { type: "text", id: "port-path", placeholder: "/" });
  path.value = "/";
  const link = h("code", { id: "port-url", class: "mono" });
  const status = h("span", { class: "muted", id: "port-status" });
  const view = h("div", { id: "port-view" });
  const url = () => `/v1/sandboxes/${encodeURIComponent(id)}/ports/${encodeURIComponent(port.value.trim())}${path.value.startsWith("/") ? path.value : `/${path.value}`}`;
  const showUrl = () => (link.textContent = `${location.origin}${url()}`);
  port.addEventListener("input", showUrl);
  path.addEventListener("input", showUrl);
  showUrl();

  const open = async (e: Event) => {
    e.preventDefault();
    view.replaceChildren();
    status.textContent = "opening…";
    try {
      const key = getKey();
      // A redirect is not followed: the sandbox's server chooses its target, and the fetch
      // would carry the key there (to any of hostd's own routes, /v1/keys included).
      // No cookies: the browser's cookies for this host (other apps on 127.0.0.1) are none of the sandbox's business.
      const res = await fetch(url(), { headers: key ? { authorization: `Bearer ${key}` } : {}, redirect: "manual", credentials: "omit" });
      if (res.type === "opaqueredirect") {
        status.textContent = "HTTP 3xx redirect";
        view.append(h("p", { class: "error" }, "The server answered with a redirect. It is not followed here, because the request carries your key; open the path it names yourself."));
        return;
      }
      const type = res.headers.get("content-type") ?? "";
      status.textContent = `HTTP ${res.status} ${type}`;
      if (!res.ok) {
        const body = (await res.json().catch(() => null)) as { error?: string } | null;
        if (body?.error) view.append(h("p", { class: "error" }, body.error));
        return;
      }
      if (/^image\/(png|jpeg|gif|webp)\b/.test(type)) {
        // As a data: URL: the CSP allows images from 'self' and data: only.
        const img = h("img", { class: "figure", alt: "port answer" });
        img.src = await new Promise<string>((resolve, reject) => {
          const reader = new FileReader();
          reader.onload = () => resolve(String(reader.result));
          reader.onerror = () => reject(reader.error ?? new Error("could not read the image"));
          void res.blob().then((b) => reader.readAsDataURL(b), reject);
        });
        view.append(img);
        return;
      }
      const text = (await res.text()).slice(0, PREVIEW_BYTES);
      if (/^text\/html\b/.test(type)) {
        // sandbox="" : no scripts, no forms, no top navigation, an opaque origin.
        const frame = h("iframe", { class: "port-frame", sandbox: "", referrerpolicy: "no-referrer", title: `port ${port.value}` });
        frame.srcdoc = text;
        view.append(frame);
      } else {
        view.append(h("pre", { class: "port-text" }, text));
      }
    } catch (err) {
      status.textContent = (err as Error).message;
    }
  };

  return h("div", { class: "card", id: "ports" },
    h("h2", {}, "Ports"),
    h("p", { class: "muted" }, "Start a server inside (bash: python3 -m http.server 8000 &). Programs reach it at this URL with the key as Authorization: Bearer; Open shows its answer here."),
    h("form", { class: "row", onsubmit: open }, "Port", port, "Path", path, h("button", { type: "submit", id: "port-open" }, "Open")),
    h("p", {}, link),
    status,
    view,
  );
}
