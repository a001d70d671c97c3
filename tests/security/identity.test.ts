// A sandbox knows itself by the id the API gives it: the uts hostname, the kernel's HOSTNAME
// (os.environ and the environment block in /proc) and a shell's $HOSTNAME, for a sandbox the warm pool spawned from its zygote and for a fork
// child alike (a pooled sandbox's kernel once kept the zygote's id in HOSTNAME).
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { api, bash, closeSandbox, createSandbox, exec } from "../support/api.js";
import { until } from "../support/host.js";

const made: string[] = [];
after(() => Promise.all(made.map((id) => closeSandbox(id))));

interface Capacity { pool: { size: number; free: number; hits: number } }
const capacity = async () => (await (await api("GET", "/v1/capacity")).json()) as Capacity;

// The environment block exec() laid out (/proc/self/environ) as well as the live environment:
// a forked kernel's block is its parent's unless rewritten.
const PY = `import os, socket
block = dict(e.split(b'=', 1) for e in open('/proc/self/environ', 'rb').read().split(b'\\0') if b'=' in e)
print(os.environ.get('HOSTNAME'), socket.gethostname(), block.get(b'HOSTNAME', b'').decode())`;

async function names(id: string): Promise<string[]> {
  const py = await exec(id, PY);
  const sh = await bash(id, 'echo "$HOSTNAME $(hostname) $(tr "\\0" "\\n" < /proc/$$/environ | sed -n "s/^HOSTNAME=//p")"');
  return [py.stdout + py.stderr, sh.stdout + sh.stderr];
}

test("a pooled sandbox and its fork child name themselves by their API id", async () => {
  assert.ok((await capacity()).pool.size > 0, "the test hostd runs a warm pool");
  const cap = await until(async () => {
    const c = await capacity();
    return c.pool.free > 0 && c;
  }, "the warm pool never had a free sandbox", 120_000);
  const id = await createSandbox();
  made.push(id);
  assert.equal((await capacity()).pool.hits, cap.pool.hits + 1, "the sandbox came from the warm pool");
  assert.deepEqual(await names(id), [`${id} ${id} ${id}\n`, `${id} ${id} ${id}\n`]);

  const res = await api("POST", `/v1/sandboxes/${id}/fork`, { n: 1 });
  const body = (await res.json()) as { children: string[] };
  assert.equal(res.status, 200, JSON.stringify(body));
  const child = body.children[0]!;
  made.push(child);
  assert.deepEqual(await names(child), [`${child} ${child} ${child}\n`, `${child} ${child} ${child}\n`]);
});
