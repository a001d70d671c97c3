// Create, inspect, list, delete; healthz and capacity.
import { test } from "node:test";
import assert from "node:assert/strict";
import { api, closeSandbox, createSandbox, exec } from "../support/api.js";

test("healthz answers ok without auth", async () => {
  const res = await api("GET", "/v1/healthz");
  assert.equal(res.status, 200);
  assert.equal(await res.text(), "ok");
});

test("create answers the Podflare shape plus applied limits and honest warnings", async () => {
  const res = await api("POST", "/v1/sandboxes", { memory_mb: 512, vcpus: 1, metadata: { run: "t1" }, egress: false });
  const body = (await res.json()) as Record<string, unknown> & { id: string; applied: Record<string, unknown>; warnings: string[] };
  assert.equal(res.status, 200);
  assert.match(body.id, /^sbx_[0-9a-f]{32}$/);
  assert.equal(body.state, "ready");
  assert.equal(body.template, "default");
  assert.equal(body.applied.memory_mb, 512);
  assert.equal(body.applied.vcpus, 1);
  assert.deepEqual(body.clamped, []);
  assert.deepEqual(body.warnings, []);
  const info = (await (await api("GET", `/v1/sandboxes/${body.id}`)).json()) as { metadata: Record<string, string>; state: string };
  assert.equal(info.state, "ready");
  assert.deepEqual(info.metadata, { run: "t1" });
  const list = (await (await api("GET", "/v1/sandboxes")).json()) as { sandboxes: { id: string }[] };
  assert.ok(list.sandboxes.some((s) => s.id === body.id));
  await closeSandbox(body.id);
});

test("a request above the host is clamped and says so", async () => {
  const res = await api("POST", "/v1/sandboxes", { vcpus: 1000 });
  const body = (await res.json()) as { id: string; clamped: string[]; applied: { vcpus: number } };
  assert.equal(res.status, 200);
  assert.deepEqual(body.clamped, ["vcpus"]);
  assert.ok(body.applied.vcpus < 1000);
  await closeSandbox(body.id);
});

test("create env reaches every process", async () => {
  const id = await createSandbox({ env: { PF_CREATE_ENV: "hello" } });
  assert.equal((await exec(id, "import os; print(os.environ['PF_CREATE_ENV'])")).stdout, "hello\n");
  assert.equal((await exec(id, "echo $PF_CREATE_ENV", { language: "bash" })).stdout, "hello\n");
  await closeSandbox(id);
});

test("delete → 204, then every call on the id → 404, and its processes are gone", async () => {
  const id = await createSandbox();
  await exec(id, "sleep 600 &", { language: "bash" });
  const res = await api("DELETE", `/v1/sandboxes/${id}`);
  assert.equal(res.status, 204);
  for (const [m, p] of [["DELETE", ""], ["GET", ""], ["POST", "/exec"]] as const) {
    const again = await api(m, `/v1/sandboxes/${id}${p}`, m === "POST" ? { code: "1" } : undefined);
    assert.equal(again.status, 404, `${m} ${p}`);
  }
  const cap = (await (await api("GET", "/v1/capacity")).json()) as { sandboxes: number; max_sandboxes: number };
  assert.ok(cap.max_sandboxes > 0);
});
