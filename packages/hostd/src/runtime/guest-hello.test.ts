// The hello check, alone and through GuestConnection.connect against a fake guest (a Unix
// socket that sends one hello frame): a kernel of another protocol version is refused.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { GUEST_PROTOCOL_VERSION, PodflareError, encodeFrame } from "@podflare/protocol";
import { GuestConnection } from "./guest-connection.js";
import { checkHello } from "./guest-hello.js";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pf-hello-"));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

const hello = (version: number) => ({ t: "hello" as const, version, pid: 1, python: "3.11.2" });

function isVersionError(err: unknown, version: number): boolean {
  assert.ok(err instanceof PodflareError, String(err));
  assert.equal(err.code, "runtime_error");
  assert.match(err.message, new RegExp(`version ${version}, but this hostd speaks version ${GUEST_PROTOCOL_VERSION}`));
  assert.match(err.message, /restart_repl/);
  return true;
}

/** A fake guest: answers each connection with `frame`, then keeps it open. */
async function fakeGuest(name: string, frame: object): Promise<{ path: string; close: () => Promise<void> }> {
  const sock = path.join(dir, name);
  const conns = new Set<net.Socket>();
  const server = net.createServer((c) => {
    conns.add(c);
    c.on("error", () => {});
    c.write(encodeFrame(frame));
  });
  await new Promise<void>((resolve) => server.listen(sock, resolve));
  return {
    path: sock,
    close: () => {
      for (const c of conns) c.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

test("checkHello passes our version and refuses another, naming both", () => {
  assert.deepEqual(checkHello(hello(GUEST_PROTOCOL_VERSION)), hello(GUEST_PROTOCOL_VERSION));
  assert.throws(() => checkHello(hello(GUEST_PROTOCOL_VERSION + 1)), (err) => isVersionError(err, GUEST_PROTOCOL_VERSION + 1));
});

test("GuestConnection.connect refuses a guest whose hello has another version", async () => {
  const guest = await fakeGuest("old.sock", hello(GUEST_PROTOCOL_VERSION + 41));
  try {
    await assert.rejects(GuestConnection.connect(guest.path, 5_000), (err) => isVersionError(err, GUEST_PROTOCOL_VERSION + 41));
  } finally {
    await guest.close();
  }
});

test("GuestConnection.connect accepts a guest of our version", async () => {
  const guest = await fakeGuest("ok.sock", hello(GUEST_PROTOCOL_VERSION));
  try {
    const conn = await GuestConnection.connect(guest.path, 5_000);
    assert.equal(conn.hello.version, GUEST_PROTOCOL_VERSION);
    conn.close();
  } finally {
    await guest.close();
  }
});
