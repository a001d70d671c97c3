import assert from "node:assert/strict";
import { test } from "node:test";
import { PodflareError } from "@podflare/protocol";
import { namingRaces, type RestartCounts } from "./naming-races.js";
import { route, SB, type RouteContext } from "./route.js";

const ID = `sbx_${"a".repeat(32)}`;

/** Restart counts of one sandbox, which `gone()` removes and `restart()` bumps. */
function oneSandbox() {
  let restarts: number | null = 0;
  const counts: RestartCounts = { restartsOf: () => restarts };
  return { counts, gone: () => void (restarts = null), restart: () => void (restarts = (restarts ?? 0) + 1) };
}

const ctx = { owner: "o", params: [ID] } as unknown as RouteContext;

async function codeOf(call: () => Promise<void> | void): Promise<string> {
  try {
    await call();
    return "none";
  } catch (err) {
    return err instanceof PodflareError ? err.code : `raw: ${(err as Error).message}`;
  }
}

test("a call that breaks because its sandbox was deleted meanwhile answers sandbox_not_found", async () => {
  const sb = oneSandbox();
  const [r] = namingRaces(sb.counts, [route("POST", `${SB}/exec`, () => { sb.gone(); throw new Error("socket closed"); })]);
  assert.equal(await codeOf(() => r!.handle(ctx)), "sandbox_not_found");
});

test("a call that breaks because the REPL restarted meanwhile answers conflict", async () => {
  const sb = oneSandbox();
  const [r] = namingRaces(sb.counts, [route("POST", `${SB}/exec`, () => { sb.restart(); throw new Error("socket closed"); })]);
  assert.equal(await codeOf(() => r!.handle(ctx)), "conflict");
});

test("a failure with no race behind it, and any 4xx, pass through", async () => {
  const sb = oneSandbox();
  const [raw, busy] = namingRaces(sb.counts, [
    route("POST", `${SB}/exec`, () => { throw new Error("disk on fire"); }),
    route("POST", `${SB}/fork`, () => { sb.gone(); throw new PodflareError("bad_request", "n must be 1 to 32"); }),
  ]);
  assert.equal(await codeOf(() => raw!.handle(ctx)), "raw: disk on fire");
  assert.equal(await codeOf(() => busy!.handle(ctx)), "bad_request");
});

test("the DELETE of the sandbox keeps its own failure: it is the call that took the sandbox away", async () => {
  const sb = oneSandbox();
  const [del] = namingRaces(sb.counts, [route("DELETE", SB, () => { sb.gone(); throw new PodflareError("internal", "stopping it failed"); })]);
  assert.equal(await codeOf(() => del!.handle(ctx)), "internal");
  const other = oneSandbox();
  const [delFile] = namingRaces(other.counts, [route("DELETE", `${SB}/files`, () => { other.gone(); throw new Error("socket closed"); })]);
  assert.equal(await codeOf(() => delFile!.handle(ctx)), "sandbox_not_found");
});
