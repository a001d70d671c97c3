// What the front answers on its own to bytes it will not pass on, in hostd's codes and
// statuses (docs/api.md, "Errors"), so that an SDK raises the same class through the edge; and
// the metrics and access log line of a call answered on the front.
import { PodflareError } from "@podflare/protocol";
import { rawErrorAnswer } from "../answer.js";
import { redactHeaders, redactPath } from "../redact.js";
import type { Exchange } from "./exchange.js";
import type { FrontDeps } from "./front-deps.js";
import { MAX_REQUEST_HEAD_BYTES } from "./llhttp.js";

/** llhttp refused the bytes: a head too big (431 headers_too_large), else 400 bad_request. */
export function parseRefusal(llhttpCode: string | undefined): string {
  if (llhttpCode === "HPE_HEADER_OVERFLOW") {
    const err = new PodflareError("headers_too_large", `the request head is over ${MAX_REQUEST_HEAD_BYTES / 1024} KiB; send fewer or smaller headers`);
    return rawErrorAnswer(err, true);
  }
  return rawErrorAnswer(new PodflareError("bad_request", `the request is not valid HTTP/1.1 (${llhttpCode ?? "parse error"})`), true);
}

/** A head that took longer than the headers timeout: 408, as hostd answers it. */
export function headTimeoutRefusal(timeoutMs: number): string {
  return rawErrorAnswer(new PodflareError("request_timeout", `the request head did not arrive within ${timeoutMs} ms; send it whole and at once`), true);
}

/** Counts and logs a call the front answered; what went to the edge's own server is counted there. */
export function countAndLog(deps: FrontDeps, ex: Exchange): void {
  if (ex.plan.to !== "origin" && ex.plan.to !== "create") return;
  deps.metrics.request(ex.region || "-", ex.plan.to === "create" ? "create" : ex.plan.kind, ex.status);
  if (!deps.accessLog) return;
  const ms = (performance.now() - ex.started).toFixed(1);
  deps.log(`${ex.head.method} ${redactPath(ex.head.url)} -> ${ex.region || "edge"} ${ex.status} ${ms} ms headers=${JSON.stringify(redactHeaders(ex.headerObject()))}`);
}
