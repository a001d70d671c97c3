// Runs tests/conformance/cases.json through the TypeScript SDK against a real hostd
// (PODFLARE_HOSTD_URL). run_py.py runs the same cases through the Python SDK.

import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import * as sdk from "podflare";
import { Sandbox } from "podflare";
import { assertReachable, hostdUrl, repoRoot, type Case, type Expect, type Step } from "./support.js";

const cases = JSON.parse(readFileSync(join(repoRoot, "tests/conformance/cases.json"), "utf8")) as Case[];

test("hostd is reachable at PODFLARE_HOSTD_URL", async () => {
  await assertReachable(hostdUrl());
});

for (const c of cases) {
  test(`ts: ${c.name}`, { timeout: 180_000 }, async () => {
    const host = hostdUrl();
    const sandboxes = new Map<string, Sandbox>();
    const blobs = new Map<string, string>();
    try {
      for (const [i, step] of c.steps.entries()) {
        await runStep(host, step, sandboxes, blobs).catch((err: unknown) => {
          if (err instanceof Error) err.message = `step ${i} (${step.op}): ${err.message}`;
          throw err;
        });
      }
    } finally {
      await Promise.allSettled([...sandboxes.values()].map((s) => s.close()));
    }
  });
}

async function runStep(host: string, step: Step, sandboxes: Map<string, Sandbox>, blobs: Map<string, string>): Promise<void> {
  const expect: Expect = step.expect ?? {};
  const sb = (): Sandbox => {
    const name = step.sandbox ?? "sb";
    const found = sandboxes.get(name);
    if (!found) throw new Error(`no sandbox named ${name} in this case`);
    return found;
  };
  const t0 = performance.now();
  let value: unknown;
  try {
    value = await perform(host, step, sb, sandboxes, blobs);
  } catch (err) {
    if (!expect.error) throw err;
    checkError(err, expect.error);
    return;
  }
  if (expect.error) assert.fail(`expected ${JSON.stringify(expect.error)}, but ${step.op} succeeded`);
  const elapsed = performance.now() - t0;
  if (expect.min_elapsed_ms !== undefined) assert.ok(elapsed >= expect.min_elapsed_ms, `took ${elapsed.toFixed(0)} ms, expected >= ${expect.min_elapsed_ms}`);
  if (expect.max_elapsed_ms !== undefined) assert.ok(elapsed <= expect.max_elapsed_ms, `took ${elapsed.toFixed(0)} ms, expected <= ${expect.max_elapsed_ms}`);

  if (step.op === "run" || step.op === "stream") {
    const r = value as sdk.ExecResult & { firstEventMs?: number };
    if (expect.exit_code !== undefined) assert.equal(r.exitCode, expect.exit_code, `exit code; stderr: ${r.stderr}`);
    if (expect.stdout !== undefined) assert.equal(r.stdout, expect.stdout);
    if (expect.stderr !== undefined) assert.equal(r.stderr, expect.stderr);
    if (expect.stdout_contains !== undefined) assert.ok(r.stdout.includes(expect.stdout_contains), `stdout ${JSON.stringify(r.stdout)} lacks ${expect.stdout_contains}`);
    if (expect.stderr_contains !== undefined) assert.ok(r.stderr.includes(expect.stderr_contains), `stderr ${JSON.stringify(r.stderr)} lacks ${expect.stderr_contains}`);
    if (expect.first_event_within_ms !== undefined) {
      assert.ok(r.firstEventMs !== undefined && r.firstEventMs < expect.first_event_within_ms, `first event after ${r.firstEventMs?.toFixed(0)} ms`);
    }
  }
  if (step.op === "create") {
    const s = value as Sandbox;
    if (expect.id_pattern) assert.match(s.id, new RegExp(expect.id_pattern));
    for (const key of expect.applied_keys ?? []) {
      const camel = sdk.snakeToCamel(key);
      assert.ok(s.applied && camel in s.applied, `applied lacks ${camel}: ${JSON.stringify(s.applied)}`);
    }
  }
  if (step.op === "download") {
    const bytes = value as Buffer;
    if (expect.same_as) assert.equal(sha256(bytes), blobs.get(expect.same_as), "downloaded bytes differ from the upload");
    if (expect.text !== undefined) assert.equal(bytes.toString("utf8"), expect.text);
  }
  if (step.op === "list") {
    const names = (value as sdk.FileEntry[]).map((e) => e.name);
    for (const n of expect.names_include ?? []) assert.ok(names.includes(n), `listing ${JSON.stringify(names)} lacks ${n}`);
  }
}

async function perform(
  host: string,
  step: Step,
  sb: () => Sandbox,
  sandboxes: Map<string, Sandbox>,
  blobs: Map<string, string>,
): Promise<unknown> {
  switch (step.op) {
    case "create": {
      const opts: sdk.SandboxOptions = { host };
      for (const [k, v] of Object.entries(step.options ?? {})) (opts as Record<string, unknown>)[sdk.snakeToCamel(k)] = v;
      const s = await Sandbox.create(opts);
      sandboxes.set(step.as ?? "sb", s);
      return s;
    }
    case "connect": {
      const id = step.id ?? sandboxes.get(step.id_of ?? "")?.id;
      if (!id) throw new Error("connect needs id or id_of");
      const s = await Sandbox.connect(id, { host });
      sandboxes.set(step.as ?? "sb", s);
      return s;
    }
    case "close":
      return sb().close();
    case "run": {
      const r = await sb().runCode(step.code ?? "", (step.language ?? "python") as sdk.Language, runOpts(step));
      return r;
    }
    case "stream": {
      const t0 = performance.now();
      let firstEventMs: number | undefined;
      const out: string[] = [];
      const err: string[] = [];
      let exitCode = -1;
      for await (const ev of sb().runCodeStream(step.code ?? "", (step.language ?? "python") as sdk.Language, runOpts(step))) {
        firstEventMs ??= performance.now() - t0;
        if (ev.type === "exit") exitCode = ev.data;
        else if (ev.type === "stdout" || ev.type === "stderr") (ev.type === "stdout" ? out : err).push(ev.data);
      }
      return { stdout: out.join(""), stderr: err.join(""), exitCode, firstEventMs };
    }
    case "upload_random": {
      const data = randomBytes(step.bytes ?? 0);
      blobs.set(step.as ?? "blob", sha256(data));
      return sb().upload(data, step.path!);
    }
    case "upload":
      return sb().upload(step.text ?? "", step.path!);
    case "download":
      return sb().download(step.path!);
    case "list":
      return sb().list(step.path!);
    case "remove":
      return sb().remove(step.path!);
    default:
      throw new Error(`unknown op ${step.op}`);
  }
}

function runOpts(step: Step): sdk.RunOptions {
  return step.timeout_ms !== undefined ? { timeoutMs: step.timeout_ms } : {};
}

function checkError(err: unknown, want: NonNullable<Expect["error"]>): void {
  assert.ok(err instanceof sdk.PodflareError, `expected a PodflareError, got ${String(err)}`);
  if (want.class) {
    const cls = (sdk as unknown as Record<string, unknown>)[want.class];
    assert.equal(typeof cls, "function", `the SDK exports no class ${want.class}`);
    assert.ok(err instanceof (cls as new (...args: never[]) => unknown), `expected ${want.class}, got ${err.name}: ${err.message}`);
  }
  if (want.code) assert.equal(err.code, want.code, err.message);
  if (want.status !== undefined) assert.equal(err.status, want.status, err.message);
}

function sha256(data: Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}
