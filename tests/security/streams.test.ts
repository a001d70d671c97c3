// Streams between a sandbox and a client are bounded: a client that does not read an exec's
// output costs hostd a bounded amount of memory, and the sandbox's writer blocks as on a full pipe.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import { SandboxPool, bash, hostdUrl } from "../support/api.js";
import { eventually, sandboxPids } from "../support/host.js";

const pool = new SandboxPool();
after(() => pool.closeAll());

/** The pid of the process listening on the test hostd's port. */
function hostdPid(): number {
  const port = new URL(hostdUrl()).port;
  const r = spawnSync("ss", ["-ltnpH", `sport = :${port}`], { encoding: "utf8" });
  const pid = /pid=(\d+)/.exec(r.stdout)?.[1];
  assert.ok(pid, `no process listens on port ${port}: ${r.stdout}${r.stderr}`);
  return Number(pid);
}

function rssBytes(pid: number): number {
  const kb = /^VmRSS:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
  return Number(kb) * 1024;
}

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
        `${method} ${path} HTTP/1.1\r\nHost: ${url.host}\r\nContent-Type: application/json\r\n` +
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
