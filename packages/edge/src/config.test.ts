import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { checkUnique, loadEdgeConfig } from "./config.js";

test("regions come from --region, else --config, else PODFLARE_REGIONS", () => {
  const env = { PODFLARE_REGIONS: "us-west=http://a:7070,eu=http://b:7070/" };
  assert.deepEqual(loadEdgeConfig([], env).regions, [{ name: "us-west", url: "http://a:7070" }, { name: "eu", url: "http://b:7070" }]);
  assert.deepEqual(loadEdgeConfig(["--region", "ap=http://c:1"], env).regions, [{ name: "ap", url: "http://c:1" }]);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "edge-cfg-"));
  const file = path.join(dir, "edge.json");
  fs.writeFileSync(file, JSON.stringify({ regions: { "us-west": "http://a:7070", eu: { url: "http://b:7070", tag: "00e1" } }, probe_interval_ms: 500 }));
  const cfg = loadEdgeConfig(["--config", file], env);
  assert.deepEqual(cfg.regions[1], { name: "eu", url: "http://b:7070", tag: "00e1" });
  assert.equal(cfg.probeIntervalMs, 500);
  assert.equal(cfg.addr, "127.0.0.1:7080");
  fs.rmSync(dir, { recursive: true });
});

test("mistakes are refused with the fix", () => {
  assert.throws(() => loadEdgeConfig([], {}), /no regions: give --region/);
  assert.throws(() => loadEdgeConfig(["--region", "us-west"], {}), /must look like us-west=http/);
  assert.throws(() => loadEdgeConfig(["--region", "US=http://a"], {}), /lowercase/);
  assert.throws(() => loadEdgeConfig(["--region", "a=ftp://x"], {}), /http:\/\/ or https/);
  assert.throws(() => loadEdgeConfig(["--region", "a=http://x", "--region", "a=http://y"], {}), /configured twice/);
  assert.throws(() => checkUnique([{ name: "a", url: "http://x", tag: "0001" }, { name: "b", url: "http://y", tag: "0001" }]), /both have the id tag 0001/);
  assert.throws(() => loadEdgeConfig(["--bogus"], {}), /unknown option/);
  assert.throws(() => loadEdgeConfig([], { PODFLARE_REGIONS: "a=http://x", PODFLARE_EDGE_PROBE_MS: "soon" }), /PODFLARE_EDGE_PROBE_MS/);
});
