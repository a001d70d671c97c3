// A client that stops reading a process's output stream costs hostd a bounded amount of
// memory: hostd stops reading the guest, and the guest keeps only a bounded ring per process
// (the process itself is not held back: a background process must not stall on a reader).
import { after, test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { SandboxPool, api, hostdUrl } from "../support/api.js";
import { eventually, sandboxMemoryBytes } from "../support/host.js";
import { hostdPid, rssBytes } from "../support/hostd-memory.js";

const pool = new SandboxPool();
after(() => pool.closeAll());

/** A GET on a fresh socket whose answer is never read. */
function stalledGet(path: string): Promise<net.Socket> {
  const url = new URL(hostdUrl());
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: url.hostname, port: Number(url.port) }, () => {
      socket.write(`GET ${path} HTTP/1.1\r\nHost: ${url.host}\r\nConnection: close\r\n\r\n`);
      socket.pause();
      resolve(socket);
    });
    socket.on("error", reject);
  });
}

test("a stalled reader of a process writing 300 MB: hostd and sandbox memory stay bounded", async (t) => {
  const id = await pool.create({ memory_mb: 1024 });
  const pid = hostdPid();
  const boundBytes = 64 * 1024 * 1024;
  // 300 MB over several seconds: long enough for an unbounded hostd to take it all in.
  const producer = "import sys, time\nb = b'y' * 1048576\nfor i in range(300):\n    sys.stdout.buffer.write(b); sys.stdout.flush(); time.sleep(0.01)";
  const started = await api("POST", `/v1/sandboxes/${id}/processes`, { cmd: "python3", args: ["-c", producer], tag: "flood" });
  assert.equal(started.status, 200);
  const proc = (await started.json()) as { pid: number };
  const rssBefore = rssBytes(pid);
  const memBefore = sandboxMemoryBytes(id);
  const socket = await stalledGet(`/v1/sandboxes/${id}/processes/flood/stream`);
  const readers = [socket, await stalledGet(`/v1/sandboxes/${id}/processes/flood/stream`)];
  try {
    let peak = 0;
    let sandboxPeak = 0;
    // Until the process has exited (it wrote all 300 MB past the stalled readers).
    await eventually(async () => {
      peak = Math.max(peak, rssBytes(pid) - rssBefore);
      sandboxPeak = Math.max(sandboxPeak, sandboxMemoryBytes(id) - memBefore);
      const info = (await (await api("GET", `/v1/sandboxes/${id}/processes/${proc.pid}`)).json()) as { running: boolean };
      return !info.running;
    }, "the producer to finish while its readers stalled", 180_000);
    t.diagnostic(`hostd RSS growth ${(peak / 2 ** 20).toFixed(1)} MB, sandbox memory growth ${(sandboxPeak / 2 ** 20).toFixed(1)} MB`);
    assert.ok(peak <= boundBytes, `hostd's RSS grew by ${(peak / 2 ** 20).toFixed(0)} MB (bound ${boundBytes / 2 ** 20} MB)`);
    assert.ok(sandboxPeak <= boundBytes, `the sandbox's memory grew by ${(sandboxPeak / 2 ** 20).toFixed(0)} MB (bound ${boundBytes / 2 ** 20} MB)`);
  } finally {
    for (const s of readers) s.destroy();
  }
  // A reader that reads gets the recent output and the exit.
  const res = await api("GET", `/v1/sandboxes/${id}/processes/flood/stream`);
  const lines = (await res.text()).trim().split("\n");
  assert.deepEqual(JSON.parse(lines.at(-1)!).exit_code, 0);
});
