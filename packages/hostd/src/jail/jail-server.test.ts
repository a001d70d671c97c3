// exchange() against a stand-in for jail/server.py's socket protocol (named as such): the
// real server is exercised by tests/jail/jail-server.test.ts; here, what a client makes of an
// answer cut short, which the real one gives only when it is killed mid-request.
import assert from "node:assert/strict";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { PodflareError } from "@podflare/protocol";
import { exchange } from "./jail-server.js";

async function standIn(answer: string): Promise<{ socket: string; close: () => void }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pf-jail-standin-"));
  const socket = path.join(dir, "s");
  const server = net.createServer((c) => {
    c.on("data", () => undefined);
    c.on("end", () => c.end(answer));
  });
  await new Promise<void>((resolve) => server.listen(socket, resolve));
  return { socket, close: () => { server.close(); fs.rmSync(dir, { recursive: true, force: true }); } };
}

test("a helper's answer with the server's exit status resolves with it", async () => {
  const s = await standIn('#pid 42\n{"ok":true}\n#exit 3\n');
  try {
    const r = await exchange(s.socket, "{}", 5000);
    assert.deepEqual([r.code, r.stdout.trim(), r.timedOut], [3, '{"ok":true}', false]);
  } finally {
    s.close();
  }
});

test("an answer that ends without the server's exit status (the server died mid-request) is 503 unavailable: retry, not an internal error", async () => {
  const s = await standIn("#pid 42\npartial output\n");
  try {
    await assert.rejects(exchange(s.socket, "{}", 5000), (err: unknown) => err instanceof PodflareError && err.code === "unavailable" && /retry/.test(err.message));
  } finally {
    s.close();
  }
});
