// A server inside a sandbox that answers every proxied request with endless `100 Continue`
// interim answers: each request ends at once with 502 upstream_error (at most
// limits.maxProxyInterimAnswers are taken), and hostd keeps answering everyone else while
// dozens of such requests run. Before, each ended with 504 after 60 s and hostd's event loop
// was busy parsing them (healthz took 15 s with 24 running).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { limits } from "@podflare/protocol";
import { SandboxPool, api, bash, hostdUrl } from "../support/api.js";

const PORT = 9102;
const SERVER = `import socket, threading
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", ${PORT}))
s.listen(128)
def serve(c):
    try:
        c.recv(65536)
        while True:
            c.sendall(b"HTTP/1.1 100 Continue\\r\\n\\r\\n" * 1000)
    except OSError:
        pass
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
`;

const pool = new SandboxPool();
let id: string;
const url = () => `${hostdUrl()}/v1/sandboxes/${id}/ports/${PORT}/`;

before(async () => {
  id = await pool.create();
  const put = await api("PUT", `/v1/sandboxes/${id}/files?path=/srv/flood.py`, SERVER);
  assert.equal(put.status, 204, await put.text());
  const listening = `for i in $(seq 200); do grep -Eq ':${PORT.toString(16).toUpperCase()} 0+:0000 0A' /proc/net/tcp && break; sleep 0.05; done`;
  await bash(id, `nohup python3 /srv/flood.py >/dev/null 2>&1 & ${listening}`);
});
after(() => pool.closeAll());

test("endless 100 Continue answers: 502 upstream_error at once, naming the cap", async () => {
  const started = Date.now();
  const res = await fetch(url(), { signal: AbortSignal.timeout(20_000) });
  const body = (await res.json()) as { code: string; error: string };
  assert.equal(res.status, 502, JSON.stringify(body));
  assert.equal(body.code, "upstream_error");
  assert.match(body.error, new RegExp(`more than ${limits.maxProxyInterimAnswers} interim \\(1xx\\) answers`));
  assert.ok(Date.now() - started < 10_000, `took ${Date.now() - started} ms`);
});

test("24 clients hammering the 1xx server: healthz and an exec of other callers stay fast", async (t) => {
  let stop = false;
  let answered = 0;
  const statuses = new Set<number>();
  const hammer = async () => {
    while (!stop) {
      const res = await fetch(url(), { signal: AbortSignal.timeout(20_000) });
      await res.arrayBuffer();
      statuses.add(res.status);
      answered++;
    }
  };
  const failures: string[] = [];
  const hammers = Array.from({ length: 24 }, () => hammer().catch((err: Error) => failures.push(err.message)));
  try {
    // Wait until the flood is under way, then time other callers' requests during it.
    const deadline = Date.now() + 20_000;
    while (answered < 24 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const healthz: number[] = [];
    for (let i = 0; i < 20; i++) {
      const t0 = performance.now();
      const res = await fetch(`${hostdUrl()}/v1/healthz`);
      await res.text();
      healthz.push(performance.now() - t0);
    }
    const t0 = performance.now();
    const out = await bash(id, "echo ok");
    const execMs = performance.now() - t0;
    healthz.sort((a, b) => a - b);
    t.diagnostic(`during the flood: healthz p50 ${healthz[10]!.toFixed(1)} ms, max ${healthz.at(-1)!.toFixed(1)} ms; exec ${execMs.toFixed(0)} ms; ${answered} proxied requests answered`);
    assert.equal(out.stdout, "ok\n");
    assert.ok(answered >= 24, `only ${answered} proxied requests were answered`);
    // Before the fix: healthz took 15 s and each proxied request 60 s (504).
    assert.ok(healthz.at(-1)! < 2000, `healthz took ${healthz.at(-1)!.toFixed(0)} ms during the flood`);
    assert.ok(execMs < 5000, `an exec took ${execMs.toFixed(0)} ms during the flood`);
  } finally {
    stop = true;
    await Promise.allSettled(hammers);
  }
  assert.deepEqual(failures, []);
  assert.deepEqual([...statuses], [502]);
});
