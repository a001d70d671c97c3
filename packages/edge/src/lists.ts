// GET /v1/sandboxes and GET /v1/spaces without a region: asked of every healthy region with
// the caller's key and query, answered as one list. Regions that are down or did not answer
// 200 (within FANOUT_DEADLINE_MS) are named in `regions_missing`, so a partial list never
// passes for a whole one.
import type http from "node:http";
import { forwardHeaders, sendToOrigin } from "./origin-request.js";
import type { Region, RegionSet } from "./regions.js";
import { sendJson } from "./answer.js";
import { FANOUT_DEADLINE_MS, within } from "./within.js";
import { listCaller, type ListBytes } from "./list-bytes.js";

/** The list paths and the field that holds each one's items. */
export const listField: Record<string, string> = { "/v1/sandboxes": "sandboxes", "/v1/spaces": "spaces" };

interface Part {
  region: Region;
  status: number;
  body: unknown;
}

/** What one list request holds of the budget (list-bytes.ts), given back once, whatever happens. */
class Held {
  bytes = 0;
  done = false;
  constructor(
    private readonly budget: ListBytes,
    readonly caller: string,
  ) {}
  take(n: number): void {
    if (this.done) throw new Error("the list was answered already");
    this.budget.take(this.caller, n);
    this.bytes += n;
  }
  giveBack(): void {
    this.done = true;
    this.budget.give(this.caller, this.bytes);
    this.bytes = 0;
  }
}

async function ask(r: Region, req: http.IncomingMessage, connectTimeoutMs: number, held: Held): Promise<Part | undefined> {
  const headers = forwardHeaders(req.headers, req.socket.remoteAddress);
  const result = await sendToOrigin(r, "GET", req.url ?? "/", headers, undefined, connectTimeoutMs);
  if (result.kind === "failed") return undefined;
  const chunks: Buffer[] = [];
  try {
    for await (const c of result.res) {
      held.take((c as Buffer).length);
      chunks.push(c as Buffer);
    }
  } catch (err) {
    result.res.destroy();
    throw err;
  }
  try {
    return { region: r, status: result.res.statusCode ?? 502, body: JSON.parse(Buffer.concat(chunks).toString("utf8")) };
  } catch {
    return undefined;
  }
}

export async function listAcross(regions: RegionSet, field: string, req: http.IncomingMessage, res: http.ServerResponse, connectTimeoutMs: number, budget: ListBytes): Promise<number> {
  const held = new Held(budget, listCaller(req));
  let parts: (Part | undefined)[];
  try {
    parts = await Promise.all(regions.list.map((r) => (r.healthy ? within(ask(r, req, connectTimeoutMs, held), FANOUT_DEADLINE_MS) : Promise.resolve(undefined))));
  } finally {
    held.giveBack();
  }
  const ok = parts.filter((p): p is Part => p?.status === 200);
  if (ok.length === 0) {
    // Nothing to merge: the first region's refusal (a 401 names the fix) as is, else 503.
    const first = parts.find((p): p is Part => p !== undefined);
    if (first) {
      sendJson(res, first.status, first.body);
      return first.status;
    }
    // As docs/edge.md says: region_unavailable with Retry-After (it had neither; tester tr).
    sendJson(res, 503, { error: "no region could be asked for the list; retry after 1 s (Retry-After)", code: "region_unavailable" }, { "retry-after": "1" });
    return 503;
  }
  const items = ok.flatMap((p) => {
    const v = (p.body as Record<string, unknown>)[field];
    return Array.isArray(v) ? v : [];
  });
  const missing = regions.list.filter((r, i) => parts[i]?.status !== 200).map((r) => r.name);
  const text = JSON.stringify({ [field]: items, ...(missing.length ? { regions_missing: missing } : {}) });
  // Held until the caller has read it (or left): a caller that never reads holds its own share.
  const bytes = Buffer.byteLength(text);
  budget.take(held.caller, bytes);
  let given = false;
  const giveBack = (): void => {
    if (given) return;
    given = true;
    budget.give(held.caller, bytes);
  };
  res.once("finish", giveBack);
  res.once("close", giveBack);
  res.writeHead(200, { "content-type": "application/json", "content-length": bytes });
  res.end(text);
  return 200;
}
