// Rich results come from the guest kernel, which the sandbox's own code can drive: Python in
// the REPL runs in the kernel's process and can send any frame on its connection. hostd
// checks each `result`/`exc` frame and bounds what one exec may pass on.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { SandboxPool, exec } from "../support/api.js";

const pool = new SandboxPool();
after(() => pool.closeAll());

type Event = { type: string; data?: unknown; is_main_result?: boolean; name?: unknown; value?: unknown; traceback?: unknown };

test("forged result frames from sandbox code: malformed and oversized ones are dropped with a stderr note; error fields are strings", async () => {
  const id = await pool.create();
  // The publisher's sink is the running exec's own connection and id.
  const r = await exec(id, `import builtins
conn, jid = builtins.display.__self__.sink
conn.send({"t": "result", "id": jid, "main": True}, b"not json")
conn.send({"t": "result", "id": jid, "main": True}, b'{"text/plain": 5}')
conn.send({"t": "result", "id": jid, "main": False}, b'["a list"]')
conn.send({"t": "result", "id": jid, "main": False}, b'{"text/plain": "' + b"x" * (5 * 1024 * 1024) + b'"}')
conn.send({"t": "exc", "id": jid, "name": 5, "value": None, "traceback": "t"})
conn.send({"t": "result", "id": jid, "main": "yes"}, b'{"text/plain": "fine"}')
print("sent")`, { results: true });
  assert.equal(r.exitCode, 0, r.stderr);
  const events = r.events as unknown as Event[];
  const results = events.filter((e) => e.type === "result");
  assert.deepEqual(results.map((e) => [e.data, e.is_main_result]), [[{ "text/plain": "fine" }, false]]);
  assert.deepEqual(events.filter((e) => e.type === "error").map((e) => [e.name, e.value, e.traceback]), [["", "", "t"]]);
  assert.equal(r.stderr.match(/podflare: the guest sent a malformed display result; it was dropped/g)?.length, 3, r.stderr);
  assert.match(r.stderr, /podflare: a display result of \d+ bytes exceeds the limit of 4194304 bytes per result and was dropped; write it to a file/);
  assert.equal((await exec(id, "print('alive')")).stdout, "alive\n");
});

test("a cell that displays more than 16 MiB passes at most 16 MiB, says so once, and completes", async () => {
  const id = await pool.create();
  const r = await exec(id, "class Big:\n    def __repr__(self): return 'y' * (3 * 1024 * 1024)\nfor i in range(7):\n    display(Big())\nprint('done')", { timeout_ms: 120_000, results: true });
  assert.equal(r.exitCode, 0, r.stderr.slice(0, 500));
  assert.equal(r.stdout, "done\n");
  const results = (r.events as unknown as Event[]).filter((e) => e.type === "result");
  const bytes = results.reduce((n, e) => n + JSON.stringify(e.data).length, 0);
  assert.ok(results.length === 5 && bytes <= 16 * 1024 * 1024, `${results.length} results, ${bytes} bytes`);
  assert.equal(r.stderr.match(/display results of this exec exceed 16777216 bytes in total; later ones were dropped/g)?.length, 1, r.stderr);
});
