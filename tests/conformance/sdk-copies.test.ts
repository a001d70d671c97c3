// The SDKs are published alone, so they carry copies of shared tables, generated from
// packages/protocol by scripts/gen-protocol-copies.mjs and committed. These tests keep the
// committed copies fresh and equal to their source (error codes, statuses, exit codes), the
// SDK free of a run-time dependency on protocol, and the diff snippet the two SDKs share.
// No hostd needed.

import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import * as protocol from "@podflare/protocol";
import * as sdk from "podflare";
import { repoRoot } from "./support.js";

interface PyTables {
  status: Record<string, number>;
  codes: Record<string, string>;
  classes: Record<string, string>;
  client_codes: string[];
  snippet: string;
  diff_code: string;
  exit: { timeout: number; killed: number; expired: number };
}

const samplePaths = ["/root", "/tmp/h\u00e9llo \"q\""];

function pythonTables(): PyTables {
  const script = `
import json, sys, podflare, podflare.errors as e
print(json.dumps({
  "status": e.ERROR_STATUS,
  "codes": {k: v for k, v in vars(e.ErrorCode).items() if not k.startswith("_")},
  "classes": {code: cls.__name__ for code, cls in e.ERROR_CLASSES.items()},
  "client_codes": sorted(v for k, v in vars(e.ClientErrorCode).items() if not k.startswith("_")),
  "snippet": podflare.DIFF_SNIPPET,
  "diff_code": podflare.diff_code(json.loads(sys.argv[1])),
  "exit": {"timeout": podflare.EXIT_TIMEOUT, "killed": podflare.EXIT_KILLED, "expired": podflare.EXIT_EXPIRED},
}))`;
  const out = execFileSync("/usr/bin/python3", ["-c", script, JSON.stringify(samplePaths)], {
    env: { ...process.env, PYTHONPATH: join(repoRoot, "packages/sdk-python") },
    encoding: "utf8",
  });
  return JSON.parse(out) as PyTables;
}

test("the TypeScript SDK's error codes and statuses equal packages/protocol's table", () => {
  assert.deepEqual({ ...sdk.ErrorCode }, { ...protocol.ErrorCode });
  assert.deepEqual({ ...sdk.errorStatus }, { ...protocol.errorStatus });
  // Every code has its own class in the SDK.
  assert.deepEqual(Object.keys(sdk.errorClasses).sort(), Object.keys(protocol.errorStatus).sort());
});

test("the TypeScript SDK's exit codes equal packages/protocol's", () => {
  assert.deepEqual({ ...sdk.ExitCode }, { ...protocol.ExitCode });
});

test("the Python SDK's error table equals packages/protocol's, with the TypeScript class names", () => {
  const py = pythonTables();
  assert.deepEqual(py.status, { ...protocol.errorStatus });
  const expectedNames = Object.fromEntries(
    Object.entries(protocol.ErrorCode).map(([name, code]) => [name.replace(/(?<!^)([A-Z])/g, "_$1").toUpperCase(), code]),
  );
  assert.deepEqual(py.codes, expectedNames);
  const tsClasses = Object.fromEntries(Object.entries(sdk.errorClasses).map(([code, cls]) => [code, cls.name]));
  assert.deepEqual(py.classes, tsClasses);
  assert.deepEqual(py.client_codes, Object.values(sdk.ClientErrorCode).sort());
  assert.deepEqual(py.exit, { timeout: protocol.ExitCode.Timeout, killed: protocol.ExitCode.Killed, expired: protocol.ExitCode.Expired });
});

test("both SDKs carry the same diff snippet and build the same exec code", () => {
  const py = pythonTables();
  assert.equal(py.snippet, sdk.DIFF_SNIPPET);
  assert.equal(py.diff_code, sdk.diffCode(samplePaths));
});

test("the SDKs' committed protocol copies equal a fresh generation from packages/protocol", () => {
  const r = spawnSync(process.execPath, [join(repoRoot, "scripts/gen-protocol-copies.mjs"), "--check"], { cwd: repoRoot, encoding: "utf8" });
  assert.equal(r.status, 0, `${r.stderr}(fix: node scripts/gen-protocol-copies.mjs, then commit the copies)`);
});

test("the built TypeScript SDK does not import @podflare/protocol (it is published alone)", () => {
  const dist = join(repoRoot, "packages/sdk/dist");
  const files = readdirSync(dist, { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".js"));
  assert.ok(files.length > 0, `no built SDK under ${dist}; run npm run build`);
  const importers = files.filter((f) => readFileSync(join(dist, f), "utf8").includes("@podflare/protocol"));
  assert.deepEqual(importers, []);
});
