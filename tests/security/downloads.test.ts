// A sandbox cannot write on the client's connection (issue 20.3): a download carries exactly the
// size the guest declared, and a guest that sends more (a forged HTTP answer after the file)
// fails that download instead of answering the client's next call on the same connection.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { SandboxPool, exec, hostdUrl } from "../support/api.js";
import { runPythonSdk } from "../support/python-sdk.js";
import { eventually } from "../support/host.js";

const pool = new SandboxPool();
after(() => pool.closeAll());

// Run inside the sandbox's REPL (the guest kernel's own process): its download handler now
// declares 5 bytes and sends them, then a complete forged exec answer and `done`: after a pause
// (the attacker waits for the client to take its 5 bytes and send its next request), or at once
// (all of it reaches hostd before the download is piped to the client).
const forgeDownloads = (pauseS: number) => [
  "import podflare_guest.files as f",
  "_ev = b'{\"type\":\"stdout\",\"data\":\"FORGED\\\\n\",\"seq\":0,\"ts\":0}\\n{\"type\":\"exit\",\"data\":0,\"seq\":1,\"ts\":0}\\n'",
  "_forged = b'HTTP/1.1 200 OK\\r\\ncontent-type: application/x-ndjson\\r\\ncontent-length: ' + str(len(_ev)).encode() + b'\\r\\n\\r\\n' + _ev",
  "def _forge(conn, req_id, path, base):",
  "    conn.send({'t': 'file', 'id': req_id, 'kind': 'file', 'size': 5, 'mode': 420})",
  "    conn.send({'t': 'data', 'id': req_id}, b'hello')",
  `    import time; time.sleep(${pauseS})`,
  "    conn.send({'t': 'data', 'id': req_id}, _forged)",
  "    conn.send({'t': 'done', 'id': req_id})",
  "f.read = _forge",
  "print('patched')",
].join("\n");

const client = `
import json, sys
from podflare import Sandbox
sb = Sandbox.connect(sys.argv[1])
out = {}
try:
    out["download"] = sb.download("/etc/hostname").decode("latin-1")
except Exception as e:
    out["download_error"] = type(e).__name__ + ": " + str(e)
print("download:", json.dumps(out), file=sys.stderr, flush=True)  # told even if the next call fails
res = sb.run_code("print('the-true-answer')")
out["stdout"] = res.stdout
print(json.dumps(out))
`;

for (const pauseS of [0.5, 0]) {
  test(`a guest that sends more than the size it declared (${pauseS ? "after a pause" : "at once"}) fails the download and cannot forge the client's next answer`, async () => {
    const id = await pool.create();
    const patch = await exec(id, forgeDownloads(pauseS));
    assert.equal(patch.stdout, "patched\n", patch.stderr);
    const r = runPythonSdk(client, hostdUrl(), [id]);
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout.trim().split("\n").pop()!) as { download?: string; download_error?: string; stdout: string };
    assert.ok(!out.stdout.includes("FORGED"), `the forged answer reached the client: ${JSON.stringify(out)}`);
    assert.equal(out.stdout, "the-true-answer\n");
    // Cut, not whole: the guest's `done` after its overflow sent the held bytes as a complete
    // answer on a connection hostd then closed, and the client's next call on it was reset.
    assert.ok(out.download_error, `the download looked whole: ${JSON.stringify(out)}`);
  });
}

test("a cancelled download frees the guest's side: the guest's writer is told, nothing hangs", async () => {
  const id = await pool.create();
  // A download that never ends: 1 GB declared, sent in 64 KiB frames until a send fails.
  const patch = await exec(
    id,
    [
      "import podflare_guest.files as f",
      "f.cancelled_seen = False",
      "def _endless(conn, req_id, path, base):",
      "    conn.send({'t': 'file', 'id': req_id, 'kind': 'file', 'size': 1 << 30, 'mode': 420})",
      "    while conn.send({'t': 'data', 'id': req_id}, b'x' * 65536):",
      "        pass",
      "    f.cancelled_seen = True",
      "f.read = _endless",
      "print('patched')",
    ].join("\n"),
  );
  assert.equal(patch.stdout, "patched\n", patch.stderr);
  const abort = new AbortController();
  const res = await fetch(`${hostdUrl()}/v1/sandboxes/${id}/files?path=/root/endless`, { signal: abort.signal });
  assert.equal(res.status, 200);
  const reader = res.body!.getReader();
  await reader.read(); // some bytes arrived: the download is under way
  abort.abort();
  await eventually(async () => (await exec(id, "print(f.cancelled_seen)")).stdout === "True\n", "the guest kept sending into a download its client had cancelled", 20_000);
});

test("a malformed guest reply to a read ends the request with a clear error", async () => {
  const id = await pool.create();
  const patch = await exec(
    id,
    [
      "import podflare_guest.files as f",
      "def _odd(conn, req_id, path, base):",
      "    conn.send({'t': 'pong', 'id': req_id})",
      "f.read = _odd",
      "print('patched')",
    ].join("\n"),
  );
  assert.equal(patch.stdout, "patched\n", patch.stderr);
  const res = await fetch(`${hostdUrl()}/v1/sandboxes/${id}/files?path=/root/x`, { signal: AbortSignal.timeout(30_000) });
  const body = (await res.json()) as { code: string; error: string };
  assert.equal(res.status, 500);
  assert.equal(body.code, "runtime_error");
  assert.match(body.error, /unexpected "pong" frame/);
});
