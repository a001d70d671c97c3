// The default warm-pool size (pure arithmetic on the host's memory).
import { test } from "node:test";
import assert from "node:assert/strict";
import { regionTagFor } from "@podflare/protocol";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { canonicalPath, loadConfig, poolSizeFor, regionTagFromEnv } from "./config.js";

test("the default pool holds 1% of memory at ~4 MB a spawned sandbox (2 to 64), or at ~30 MB a cold-booted one (2 to 32)", () => {
  assert.equal(poolSizeFor(24 * 1024, true), 61);
  assert.equal(poolSizeFor(8 * 1024, true), 20);
  assert.equal(poolSizeFor(512, true), 2, "a small host still keeps two");
  assert.equal(poolSizeFor(256 * 1024, true), 64, "a big host stops at 64");
  assert.equal(poolSizeFor(24 * 1024, false), 8);
  assert.equal(poolSizeFor(512 * 1024, false), 32);
});

test("the region tag: PODFLARE_REGION_TAG, else derived from PODFLARE_REGION, else none", () => {
  assert.equal(regionTagFromEnv(undefined, undefined), undefined, "no region, untagged ids as before");
  assert.equal(regionTagFromEnv("us-west", undefined), regionTagFor("us-west"));
  assert.equal(regionTagFromEnv("us-west", "00e1"), "00e1");
  assert.throws(() => regionTagFromEnv("us-west", "XYZ1"), /4 lowercase hex digits/);
  assert.throws(() => regionTagFromEnv(undefined, "00e1"), /PODFLARE_REGION is not/);
});

test("settings that cannot work are errors naming the variable, not accepted to fail later", () => {
  const cases: [string, string, RegExp][] = [
    ["PODFLARE_EXEC_TIMEOUT_MS", "-5", /PODFLARE_EXEC_TIMEOUT_MS must be a whole number of at least 1/],
    ["PODFLARE_MAX_SANDBOXES", "0", /PODFLARE_MAX_SANDBOXES must be a whole number of at least 1/],
    ["PODFLARE_POOL_SIZE", "-3", /PODFLARE_POOL_SIZE must be a whole number of at least 0/],
    ["PODFLARE_POOL_SIZE_GB", "0.4", /PODFLARE_POOL_SIZE_GB must be a whole number of at least 1/],
    ["PODFLARE_STORAGE_DRIVER", "btfrs", /PODFLARE_STORAGE_DRIVER must be auto, btrfs or dir/],
    ["PODFLARE_AUTH_DISABLED", "true", /PODFLARE_AUTH_DISABLED must be 1 \(on\) or 0 \(off\)/],
    // Accepted before: every freeze was then refused, and the reaper closed persistent sandboxes.
    ["PODFLARE_SPACES_PER_OWNER", "-1", /PODFLARE_SPACES_PER_OWNER must be a whole number of at least 0/],
    ["PODFLARE_SPACE_MB_PER_OWNER", "-5", /PODFLARE_SPACE_MB_PER_OWNER must be a whole number of at least 0/],
  ];
  for (const [name, value, message] of cases) {
    const before = process.env[name];
    process.env[name] = value;
    try {
      assert.throws(() => loadConfig(), message, `${name}=${value}`);
    } finally {
      if (before === undefined) delete process.env[name];
      else process.env[name] = before;
    }
  }
});

test("the state dir's path is canonical: symlinks in the part that exists resolved, the rest kept", () => {
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "pf-canon-")));
  try {
    fs.mkdirSync(path.join(dir, "real"));
    fs.symlinkSync(path.join(dir, "real"), path.join(dir, "link"));
    assert.equal(canonicalPath(path.join(dir, "link")), path.join(dir, "real"));
    assert.equal(canonicalPath(path.join(dir, "link", "not-yet", "x")), path.join(dir, "real", "not-yet", "x"));
    assert.equal(canonicalPath(path.join(dir, "real", "..", "link", ".")), path.join(dir, "real"));
    assert.equal(canonicalPath("/no-such-dir-here/x"), "/no-such-dir-here/x");
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
