import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { listeningUnixPaths, removeStaleJailDirs } from "./stale-jail-dirs.js";

test("only jail server directories old enough, plain and root's, with nothing listening on their socket are removed", async () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "stale-jail-test-"));
  const old = new Date(Date.now() - 60_000);
  const make = (name: string): string => {
    const dir = path.join(tmp, name);
    fs.mkdirSync(dir);
    return dir;
  };
  const stale = make("podflare-jail-stale");
  // A socket file that nothing listens on any more (its server is gone).
  const dead = net.createServer();
  await new Promise<void>((r) => dead.listen(path.join(stale, "jail.sock"), r));
  await new Promise<void>((r) => dead.close(() => r()));
  fs.writeFileSync(path.join(stale, "jail.sock"), "");
  const live = make("podflare-jail-live");
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(path.join(live, "jail.sock"), r));
  const young = make("podflare-jail-young");
  const other = make("something-else");
  const target = make("target");
  fs.symlinkSync(target, path.join(tmp, "podflare-jail-link"));
  for (const d of [stale, live, other, target]) fs.utimesSync(d, old, old);
  try {
    assert.ok(listeningUnixPaths().has(path.join(live, "jail.sock")), "/proc/net/unix lists the live socket");
    const removed = removeStaleJailDirs(tmp, 20_000);
    assert.deepEqual(removed, [stale]);
    for (const kept of [live, young, other, target, path.join(tmp, "podflare-jail-link")]) assert.ok(fs.existsSync(kept), `${kept} was removed`);
  } finally {
    server.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});
