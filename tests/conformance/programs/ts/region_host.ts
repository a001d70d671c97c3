// region and host options. The test's hostd serves region "us-west" (PODFLARE_REGION);
// host is the server's base URL (here the test's hostd, as PODFLARE_HOSTD_URL names it).
import assert from "node:assert/strict";
import { RegionUnknownError, Sandbox } from "podflare";

const host = process.env["PODFLARE_HOSTD_URL"]!;

const a1 = await Sandbox.create({ region: "us-west" });
const a = (await a1.runCode("print('us-west')")).stdout;
await a1.close();

const b1 = await Sandbox.create({ host });
const b = (await b1.runCode("print('host')")).stdout;
await b1.close();

const sb = await Sandbox.create({ host, region: "us-west", persistent: true });
await sb.runCode("x = 'resumed'");
const spaceId = await sb.freeze();
const later = await Sandbox.resume(spaceId, { region: "us-west" });
let c: string;
try {
  c = (await later.runCode("print(x)")).stdout;
} finally {
  await later.close();
}

await assert.rejects(Sandbox.create({ region: "eu-nowhere" }), (err: unknown) => {
  assert.ok(err instanceof RegionUnknownError, String(err));
  assert.ok(err.message.includes('"eu-nowhere"') && err.message.includes('"us-west"'), err.message);
  return true;
});

process.stdout.write(a + b + c);
assert.deepEqual([a, b, c], ["us-west\n", "host\n", "resumed\n"]);
