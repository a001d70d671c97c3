// Issue 14: a sandbox's own hostname resolves inside it from /etc/hosts (a read-only per-sandbox
// file the jail binds over it), never through DNS. The test hostd runs with
// PODFLARE_DNS_UPSTREAM=none, so `getent hosts $(hostname)` succeeds only if /etc/hosts has it.
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { SandboxPool, api, bash, createSandbox } from "../support/api.js";
import { until } from "../support/host.js";

const pool = new SandboxPool();
after(() => pool.closeAll());
const sandbox = (body: Record<string, unknown> = {}): Promise<string> => pool.create(body);

/** `getent hosts $(hostname)` in the sandbox: its exit code and the hostname it used. */
async function resolveOwnName(id: string): Promise<{ name: string; line: string }> {
  const r = await bash(id, "h=$(hostname); echo \"$h\"; getent hosts \"$h\"");
  assert.equal(r.exitCode, 0, `getent hosts $(hostname) failed in ${id}: ${r.stdout}${r.stderr}`);
  const [name, line] = r.stdout.split("\n");
  assert.match(line ?? "", new RegExp(`^127\\.0\\.1\\.1\\s+${name}$`));
  return { name: name!, line: line! };
}

interface Capacity { pool: { size: number; free: number; hits: number } }
const capacity = async () => (await (await api("GET", "/v1/capacity")).json()) as Capacity;

test("a fresh sandbox (not from the pool) resolves its own hostname from /etc/hosts", async () => {
  const id = await sandbox({ env: { NOT_POOLED: "1" } });
  const { name } = await resolveOwnName(id);
  assert.equal(name, id);
  const r = await bash(id, "getent hosts localhost; echo x >> /etc/hosts");
  assert.match(r.stdout, /^(127\.0\.0\.1|::1)\s+localhost/m);
  assert.notEqual(r.exitCode, 0, "the hosts file is read-only: writes would land in host memory");
});

test("a pooled sandbox resolves its own hostname", async () => {
  const before = await until(async () => {
    const c = await capacity();
    return c.pool.free > 0 && c;
  }, "the warm pool never had a free sandbox", 30_000);
  const id = await sandbox();
  assert.equal((await capacity()).pool.hits, before.pool.hits + 1, "the sandbox came from the pool");
  assert.equal((await resolveOwnName(id)).name, id);
});

test("fork children resolve their own hostnames (not the parent's)", async () => {
  const parent = await sandbox();
  const res = await api("POST", `/v1/sandboxes/${parent}/fork`, { n: 2 });
  assert.equal(res.status, 200);
  const { children } = (await res.json()) as { children: string[] };
  pool.track(...children);
  for (const c of children) assert.equal((await resolveOwnName(c)).name, c);
});

test("a sandbox with egress off resolves its own hostname", async () => {
  const id = await sandbox({ egress: false });
  assert.equal((await resolveOwnName(id)).name, id);
});

test("a sandbox resumed from a Space resolves its new hostname", async () => {
  const id = await createSandbox({ persistent: true });
  const frozen = await api("POST", `/v1/sandboxes/${id}/freeze`);
  assert.equal(frozen.status, 200, await frozen.clone().text());
  const { space_id } = (await frozen.json()) as { space_id: string };
  const res = await api("POST", `/v1/spaces/${space_id}/resume`);
  assert.equal(res.status, 200);
  const resumed = ((await res.json()) as { id: string }).id;
  pool.track(resumed);
  assert.equal((await resolveOwnName(resumed)).name, resumed);
});
