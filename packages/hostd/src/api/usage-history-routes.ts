// GET /v1/usage/history?since=: usage totals over time (the dashboard's charts). An admin sees
// every key; any other key its own. `since` is an ISO time or epoch milliseconds; default 24 h ago.
import { PodflareError, type UsageHistoryPoint, type UsageHistoryResponse } from "@podflare/protocol";
import type { UsageHistory } from "../lifecycle/usage-history.js";
import type { UsagePoint } from "../store/store.js";
import { sendJson } from "./http.js";
import type { Route, RouteMaker } from "./route.js";

const DAY_MS = 24 * 3_600_000;
// The largest time a Date holds (ECMAScript: 100,000,000 days either side of 1970).
const MAX_TIME_MS = 8.64e15;

export function parseSince(raw: string | null, now: number): number {
  if (raw === null || raw === "") return now - DAY_MS;
  // Date.parse alone takes too much ("-5" is a date to V8): an ISO time starts with its date.
  const ms = /^\d+$/.test(raw) ? Number(raw) : /^\d{4}-\d{2}-\d{2}/.test(raw) ? Date.parse(raw) : NaN;
  if (!Number.isFinite(ms) || ms > MAX_TIME_MS) {
    throw new PodflareError("bad_request", `since=${JSON.stringify(raw)} is not a time; give an ISO time (2026-12-06T04:00:00Z) or epoch milliseconds up to ${MAX_TIME_MS}`);
  }
  return ms;
}

function toJson(p: UsagePoint): UsageHistoryPoint {
  return { owner: p.owner, at: new Date(p.at).toISOString(), sandboxes_created: p.sandboxes_created, sandbox_seconds: p.sandbox_seconds, gb_seconds: p.gb_seconds, execs: p.execs, forks: p.forks };
}

export function usageHistoryRoutes(history: UsageHistory, route: RouteMaker): Route[] {
  return [
    route("GET", "/v1/usage/history", ({ res, url, owner, principal }) => {
      const now = Date.now();
      const since = parseSince(url.searchParams.get("since"), now);
      const scope = principal.admin ? undefined : owner;
      const owners = scope === undefined ? history.owners() : [scope];
      sendJson(res, 200, {
        interval_s: history.intervalMs / 1000,
        since: new Date(since).toISOString(),
        points: history.since(since, scope).map(toJson),
        current: owners.map((o) => toJson(history.current(o, now))),
      } satisfies UsageHistoryResponse);
    }),
  ];
}
