import assert from "node:assert/strict";
import type { IncomingMessage } from "node:http";
import { test } from "node:test";
import { PodflareError } from "@podflare/protocol";
import { checkRegion } from "./region.js";

const req = (headers: Record<string, string> = {}) => ({ headers }) as unknown as IncomingMessage;

function code(fn: () => void): string | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    assert.ok(err instanceof PodflareError);
    return err.code;
  }
}

test("no region, or this hostd's own, is accepted", () => {
  assert.equal(code(() => checkRegion(req(), {}, undefined)), undefined);
  assert.equal(code(() => checkRegion(req(), { region: "us-west" }, "us-west")), undefined);
  assert.equal(code(() => checkRegion(req({ "x-podflare-region": "us-west" }), {}, "us-west")), undefined);
});

test("another region is region_unknown with a message naming what is served and the fix", () => {
  assert.throws(() => checkRegion(req(), { region: "us-west" }, undefined), (err: PodflareError) => {
    assert.equal(err.code, "region_unknown");
    assert.equal(err.status, 400);
    assert.match(err.message, /no region name/);
    assert.match(err.message, /PODFLARE_REGION=us-west/);
    return true;
  });
  assert.throws(() => checkRegion(req({ "x-podflare-region": "eu" }), {}, "us-west"), (err: PodflareError) => {
    assert.equal(err.code, "region_unknown");
    assert.match(err.message, /serves only region "us-west"/);
    return true;
  });
});

test("a malformed region, or a body and header that disagree, is bad_request", () => {
  assert.equal(code(() => checkRegion(req(), { region: 7 }, undefined)), "bad_request");
  assert.equal(code(() => checkRegion(req(), { region: "US West" }, undefined)), "bad_request");
  assert.equal(code(() => checkRegion(req({ "x-podflare-region": "eu" }), { region: "us-west" }, "us-west")), "bad_request");
});
