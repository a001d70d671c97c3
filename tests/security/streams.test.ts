// Streams between a sandbox and a client are bounded: a client that does not read an exec's
// output costs hostd a bounded amount of memory, and the sandbox's writer blocks as on a full pipe.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import net from "node:net";
import { SandboxPool, bash, hostdUrl } from "../support/api.js";
import { eventually, sandboxPids } from "../support/host.js";
import { hostdPid, rssBytes } from "../support/hostd-memory.js";

const pool = new SandboxPool();
after(() => pool.closeAll());

/** The pid of the process listening on the test hostd's port. */

/** Bytes a process has written so far (/proc/<pid>/io), or null once it is gone. */
function bytesWritten(pid: number): number | null {
  try {
    return Number(/^wchar:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${pid}/io`, "utf8"))?.[1]);
  } catch {
    return null;
  }
}

function commOf(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/comm`, "utf8").trim();
  } catch {
    return "";
  }
}

/** Sends a raw HTTP request on a fresh socket and never reads its answer. */
function rawRequest(method: string, path: string, body: string): Promise<net.Socket> {
  const url = new URL(hostdUrl());
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: url.hostname, port: Number(url.port) }, () => {
      socket.write(
        `${method} ${path} HTTP/1.1\r\nHost: ${url.host}\r\nConnection: close\r\nContent-Type: application/json\r\n` +
          `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      );
      socket.pause(); // read nothing: the receive window fills and TCP stops the sender
      resolve(socket);
    });
    socket.on("error", reject);
  });
}

test("a client that reads nothing of `yes` costs hostd bounded memory; the sandbox stays usable", async (t) => {
  const id = await pool.create();
  const pid = hostdPid();
  const rssBefore = rssBytes(pid);
  const boundBytes = 64 * 1024 * 1024;
  const producedBytes = 200 * 1024 * 1024;
  const socket = await rawRequest("POST", `/v1/sandboxes/${id}/exec`, JSON.stringify({ language: "bash", code: "yes", timeout_ms: 600_000 }));
  try {
    let yesPid = 0;
    await eventually(() => {
      yesPid = sandboxPids(id).find((p) => commOf(p) === "yes") ?? 0;
      return yesPid !== 0;
    }, "`yes` did not start in the sandbox", 30_000);

    // Either `yes` has written 200 MB (hostd took it all in: the bug) or it is stuck in a
    // write that makes no progress across several polls (backpressure reached the sandbox).
    let last = -1;
    let still = 0;
    let peakGrowth = 0;
    await eventually(() => {
      peakGrowth = Math.max(peakGrowth, rssBytes(pid) - rssBefore);
      if (peakGrowth > boundBytes) return true;
      const written = bytesWritten(yesPid);
      assert.ok(written !== null, "`yes` went away while the client was still connected");
      if (written >= producedBytes) return true;
      still = written === last ? still + 1 : 0;
      last = written;
      return still >= 25; // unchanged over 25 polls, 20 ms apart
    }, "neither did `yes` block nor did it produce 200 MB", 120_000);
    assert.ok(
      peakGrowth <= boundBytes,
      `hostd's RSS grew by ${(peakGrowth / 2 ** 20).toFixed(0)} MB while the client read nothing (bound ${boundBytes / 2 ** 20} MB)`,
    );
    assert.ok(last < producedBytes, `\`yes\` wrote ${last} bytes although nobody read them`);
    t.diagnostic(`hostd RSS growth ${(peakGrowth / 2 ** 20).toFixed(1)} MB; \`yes\` blocked after writing ${(last / 2 ** 20).toFixed(1)} MB`);
  } finally {
    socket.destroy();
  }

  // The client left: the exec is interrupted (docs/api.md) and the sandbox answers again.
  await eventually(() => !sandboxPids(id).some((p) => commOf(p) === "yes"), "`yes` kept running after the client left", 30_000);
  const r = await bash(id, "echo still-here");
  assert.equal(r.stdout, "still-here\n");
});

test("output held back by a client that stopped reading arrives complete and in order once it reads", async () => {
  const id = await pool.create();
  const lines = 500_000; // 1 MB of "y\n": more than every buffer on the way holds (test above: ~0.3-0.6 MB)
  const socket = await rawRequest("POST", `/v1/sandboxes/${id}/exec`, JSON.stringify({ language: "bash", code: `yes | head -n ${lines}` }));
  const chunks: Buffer[] = [];
  const ended = new Promise<void>((resolve) => socket.on("end", resolve));
  try {
    let headPid = 0;
    await eventually(() => {
      headPid = sandboxPids(id).find((p) => commOf(p) === "head") ?? 0;
      return headPid !== 0;
    }, "`head` did not start in the sandbox", 30_000);
    // Wait until the writer is held back (its output stops moving), then read everything.
    let last = -1;
    let still = 0;
    await eventually(() => {
      const written = bytesWritten(headPid);
      if (written === null) return true; // finished already: nothing was held back for long
      still = written === last ? still + 1 : 0;
      last = written;
      return still >= 25;
    }, "`head` neither blocked nor finished", 60_000);
    socket.on("data", (c: Buffer) => chunks.push(c));
    socket.resume();
    await ended;
  } finally {
    socket.destroy();
  }
  const text = Buffer.concat(chunks).toString("utf8");
  const body = text.slice(text.indexOf("\r\n\r\n") + 4);
  // Chunked transfer encoding: drop the chunk-size lines by parsing the NDJSON lines we know.
  const events = body
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as { type: string; data: string | number; seq: number });
  events.forEach((e, i) => assert.equal(e.seq, i, "seq must count up from 0 without a gap"));
  const stdout = events.filter((e) => e.type === "stdout").map((e) => e.data).join("");
  assert.equal(stdout.length, lines * 2);
  assert.equal(stdout, "y\n".repeat(lines));
  assert.deepEqual(events.at(-1), { ...events.at(-1), type: "exit", data: 0 });
});
