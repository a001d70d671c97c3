// Floods through the processes and filesystem APIs are refused at their caps (docs/security.md,
// "Processes, PTY, filesystem"): processes started through the API, and open directory watches.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { processLimits, fsLimits } from "@podflare/protocol";
import { SandboxPool, api } from "../support/api.js";
import { openNdjson } from "../support/ndjson.js";

const pool = new SandboxPool();
after(() => pool.closeAll());

test("a process flood past the cap is refused: parallel starts, exactly maxRunning succeed", async () => {
  const id = await pool.create({ memory_mb: 1024 });
  const cap = processLimits.maxRunning;
  const tries = cap + 20;
  const answers = await Promise.all(
    Array.from({ length: tries }, () => api("POST", `/v1/sandboxes/${id}/processes`, { cmd: "sleep", args: ["300"] }).then(async (r) => ({ status: r.status, body: (await r.json()) as { code?: string; pid?: number } }))),
  );
  const ok = answers.filter((a) => a.status === 200);
  const refused = answers.filter((a) => a.status === 429);
  assert.equal(ok.length, cap, `started ${ok.length} of ${tries}; the cap is ${cap}`);
  assert.equal(refused.length, tries - cap);
  assert.ok(refused.every((a) => a.body.code === "process_limit"));
  // Once one ends, there is room for one more.
  assert.equal((await api("DELETE", `/v1/sandboxes/${id}/processes/${ok[0]!.body.pid}`)).status, 204);
  assert.equal((await api("POST", `/v1/sandboxes/${id}/processes/${ok[0]!.body.pid}/wait`)).status, 200);
  assert.equal((await api("POST", `/v1/sandboxes/${id}/processes`, { cmd: "true" })).status, 200);
  const list = (await (await api("GET", `/v1/sandboxes/${id}/processes`)).json()) as { processes: unknown[] };
  assert.ok(list.processes.length >= cap);
});

test("a watch flood past the cap is refused, and closing a watch frees its place", async () => {
  const id = await pool.create();
  const url = `/v1/sandboxes/${id}/fs/watch?path=/root`;
  const streams = await Promise.all(Array.from({ length: fsLimits.maxWatches + 8 }, () => openNdjson(url)));
  try {
    const open = streams.filter((s) => s.status === 200);
    const refused = streams.filter((s) => s.status === 429);
    assert.equal(open.length, fsLimits.maxWatches);
    assert.equal(refused.length, 8);
    await Promise.all(open.map((s) => s.waitFor((e) => e.type === "watching", "the watch to be in place")));
    const res = await api("GET", url);
    assert.equal(res.status, 429);
    assert.equal(((await res.json()) as { code: string }).code, "watch_limit");
    open[0]!.close();
    await open[0]!.ended;
    let again;
    for (;;) {
      again = await openNdjson(url);
      if (again.status === 200) break;
      // The place is freed once hostd sees the hang-up.
      await new Promise((r) => setImmediate(r));
    }
    await again.waitFor((e) => e.type === "watching", "a watch after one closed");
    again.close();
  } finally {
    for (const s of streams) s.close();
  }
});
