// Red team (outside tester tq): the per-key output pace (PODFLARE_OUTPUT_MB_PER_S_PER_KEY) and
// start rate against code that goes around them: frames hostd reads but no request asked for,
// a flood of tiny lines, an exec timeout while paced, and E2B's SDK meeting a rate refusal.
// Against a hostd of its own, four free keys, paced at 4 MiB a second (16 MiB at once).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { Sandbox } from "e2b";
import { api } from "../support/api.js";
import { until } from "../support/host.js";
import { ownHostd, startTestHostd, teardownStateDir, type TestHostd } from "../support/hostd-process.js";
import { pointE2bAt } from "../e2b/support.js";

const { stateDir, port } = ownHostd("output-pace", 92);
const keys = ["frames", "lines", "timeout", "e2b"].map((k) => `pf_live_pace${k.padEnd(12, "0")}0123456789abcdefghij`);
const [framesKey, linesKey, timeoutKey, e2bKey] = keys as [string, string, string, string];
let hostd: TestHostd;
const by = (key: string) => ({ authorization: `Bearer ${key}` });
const made: [string, string][] = [];

async function sandbox(key: string): Promise<string> {
  const res = await api("POST", "/v1/sandboxes", {}, hostd.url, by(key));
  const body = (await res.json()) as { id: string };
  assert.equal(res.status, 200, JSON.stringify(body));
  made.push([key, body.id]);
  return body.id;
}

/** An exec's NDJSON events, read whole. */
async function exec(key: string, id: string, code: string, more: Record<string, unknown> = {}, signal?: AbortSignal) {
  const res = await fetch(`${hostd.url}/v1/sandboxes/${id}/exec`, { method: "POST", body: JSON.stringify({ code, ...more }), headers: { ...by(key), "content-type": "application/json" }, signal });
  assert.equal(res.status, 200);
  const events = (await res.text()).split("\n").filter(Boolean).map((l) => JSON.parse(l) as { type: string; data: unknown });
  return { stdout: events.filter((e) => e.type === "stdout").map((e) => e.data as string), exit: events.find((e) => e.type === "exit")?.data };
}

before(async () => {
  hostd = await startTestHostd({ stateDir, port, env: { PODFLARE_API_KEYS: keys.join(","), PODFLARE_API_KEYS_TIER: "free", PODFLARE_OUTPUT_MB_PER_S_PER_KEY: "4" } });
});

after(async () => {
  for (const [key, id] of made) await api("DELETE", `/v1/sandboxes/${id}`, undefined, hostd.url, by(key)).then((r) => r.arrayBuffer()).catch(() => undefined);
  await hostd.stop();
  teardownStateDir(stateDir);
});

test("frames sandbox code writes to hostd for no request (1 MiB `result` frames) are paced like output", async () => {
  const id = await sandbox(framesKey);
  // Code in the sandbox reaches its guest kernel's connections to hostd and sends frames for a
  // request id that does not exist, for 3 s, then writes down how many went.
  const flood = [
    "import gc, threading, time",
    "from podflare_guest.conn import Connection",
    "sent = []",
    "def flood(c):",
    "    body, end, n = b'y' * (1 << 20), time.monotonic() + 3, 0",
    "    while time.monotonic() < end and c.send({'t': 'result', 'id': 999999, 'main': False}, body):",
    "        n += 1",
    "    sent.append(n)",
    "    if len(sent) == len(conns):",
    "        open('/tmp/sent', 'w').write(str(sum(sent)))",
    "conns = [o for o in gc.get_objects() if isinstance(o, Connection) and o.alive]",
    "for c in conns:",
    "    threading.Thread(target=flood, args=(c,), daemon=True).start()",
  ].join("\n");
  assert.equal((await exec(framesKey, id, flood)).exit, 0);
  const sent = await until(async () => {
    const r = await exec(framesKey, id, "cat /tmp/sent 2>/dev/null", { language: "bash" });
    return r.stdout.join("") || undefined;
  }, "the flood's count", 30_000);
  // 16 MiB at once and 4 MiB a second for 3 s, plus what the sockets hold: about 30 frames.
  // Unpaced, hostd read them as fast as the guest wrote (over a core; thousands of frames).
  assert.ok(Number(sent) < 100, `${sent} frames of 1 MiB went to hostd in 3 s`);
});

test("a file's download is not paced: 32 MiB from a key whose pace the flood above spent", async () => {
  const [, id] = made.find(([k]) => k === framesKey)!;
  assert.equal((await exec(framesKey, id, "head -c 33554432 /dev/urandom > /tmp/big", { language: "bash" })).exit, 0);
  const t0 = performance.now();
  const res = await api("GET", `/v1/sandboxes/${id}/files?path=/tmp/big`, undefined, hostd.url, by(framesKey));
  assert.equal(res.status, 200);
  assert.equal((await res.arrayBuffer()).byteLength, 32 * 1024 * 1024);
  const s = (performance.now() - t0) / 1000;
  // Paced at 4 MiB a second it would take 8 s; read at disk speed it takes a fraction of one.
  assert.ok(s < 4, `a 32 MiB download took ${s.toFixed(2)} s: paced like output`);
});

test("a flood of empty lines is paced too: each line counts as 256 bytes, every line arrives", async () => {
  const id = await sandbox(linesKey);
  const lines = 100_000; // 100 kB of output, 24.4 MiB of hostd's work: 8.4 MiB past the burst
  const t0 = performance.now();
  const r = await exec(linesKey, id, `import sys\nsys.stdout.write("\\n" * ${lines})`);
  assert.equal(r.exit, 0);
  assert.equal(r.stdout.length, lines);
  assert.ok(r.stdout.every((l) => l === "\n"));
  // Lines that came in one read are all relayed; what they cost past the burst is owed, and the
  // key's next output waits for it (about 2.1 s at 4 MiB a second).
  assert.deepEqual((await exec(linesKey, id, "print('after')")).stdout, ["after\n"]);
  const s = (performance.now() - t0) / 1000;
  assert.ok(s >= 1.5, `${lines} lines and one more relayed in ${s.toFixed(2)} s: the lines were not counted`);
});

test("an exec whose output waits on its key's pace is interrupted at its timeout_ms and keeps the REPL's state", async () => {
  const target = await sandbox(timeoutKey);
  assert.equal((await exec(timeoutKey, target, "x = 42")).exit, 0);
  // Four more of the key's sandboxes print flat out: the target gets a fifth of the pace, and
  // the output it wrote before the interrupt takes longer than the kill's grace to drain.
  const loud = "import sys\nline = 'x' * 65535 + '\\n'\nwhile True:\n    sys.stdout.write(line)\n";
  const stop = new AbortController();
  const floods = await Promise.all([1, 2, 3, 4].map(() => sandbox(timeoutKey)));
  const running = floods.map((id) => exec(timeoutKey, id, loud, {}, stop.signal).catch(() => undefined));
  try {
    const timed = await exec(timeoutKey, target, loud, { timeout_ms: 3000 });
    assert.equal(timed.exit, 124, "the exec was not stopped by its timeout as an interrupt (137: the REPL was killed)");
    stop.abort();
    await Promise.all(running);
    assert.deepEqual((await exec(timeoutKey, target, "print(x)")).stdout, ["42\n"]);
  } finally {
    stop.abort();
  }
});

test("E2B: a create refused for its key's start rate says Retry-After, and E2B's SDK waits it out", async () => {
  // Spend the key's starts (30 at once), closing each so only the rate can refuse.
  for (let i = 0; i < 60; i++) {
    const res = await api("POST", "/v1/sandboxes", {}, hostd.url, by(e2bKey));
    const body = (await res.json()) as { id?: string; code?: string };
    if (res.status === 429) {
      assert.equal(body.code, "rate_limited");
      break;
    }
    await (await api("DELETE", `/v1/sandboxes/${body.id}`, undefined, hostd.url, by(e2bKey))).arrayBuffer();
  }
  const refused = await fetch(`${hostd.url}/sandboxes`, { method: "POST", body: JSON.stringify({ templateID: "base" }), headers: { "x-api-key": e2bKey, "content-type": "application/json" } });
  assert.equal(refused.status, 429, await refused.clone().text());
  assert.match(refused.headers.get("retry-after") ?? "", /^\d+$/, "no Retry-After on E2B's 429");
  await refused.arrayBuffer();
  // E2B's SDK retries a 429 only when it says Retry-After (it threw RateLimitError at once).
  pointE2bAt(hostd.url, e2bKey);
  const sbx = await Sandbox.create();
  made.push([e2bKey, sbx.sandboxId]);
  assert.match(sbx.sandboxId, /^sbx_[0-9a-f]{32}$/);
});
