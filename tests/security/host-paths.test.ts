// Host paths and host facts stay outside: the state dir, the checkout the guest kernel comes
// from, and the host's boot line must not show in a sandbox's /proc/self/mountinfo,
// /proc/cmdline, or the addresses of the kernel's sockets.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { SandboxPool, api, closeSandbox, exec } from "../support/api.js";

const pool = new SandboxPool();
after(() => pool.closeAll());

const stateDir = path.resolve(process.env.PODFLARE_STATE_DIR || "/var/lib/podflare-test");
const checkout = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const hostCmdline = fs.readFileSync("/proc/cmdline", "utf8").trim();

// What a program inside can read: mountinfo, /proc/cmdline, the unix socket table of its
// network namespace, and the local and peer address of every socket the kernel holds.
const PROBE = `
import os, socket
out = {'mountinfo': open('/proc/self/mountinfo').read(), 'cmdline': open('/proc/cmdline').read(),
       'unix': open('/proc/net/unix').read(), 'sockets': []}
for fd in os.listdir('/proc/self/fd'):
    try:
        if not os.readlink(f'/proc/self/fd/{fd}').startswith('socket:'):
            continue
        s = socket.socket(fileno=os.dup(int(fd)))
    except OSError:
        continue
    for name in ('getsockname', 'getpeername'):
        try:
            out['sockets'].append(repr(getattr(s, name)()))
        except OSError:
            pass
    s.detach()
import json
print(json.dumps(out))
`;

async function hostFactsSeenIn(id: string): Promise<string[]> {
  const r = await exec(id, PROBE);
  assert.equal(r.stderr, "");
  const seen = JSON.parse(r.stdout) as { mountinfo: string; cmdline: string; unix: string; sockets: string[] };
  const found: string[] = [];
  for (const [what, text] of [["mountinfo", seen.mountinfo], ["/proc/cmdline", seen.cmdline], ["/proc/net/unix", seen.unix], ["socket addresses", seen.sockets.join("\n")]] as const) {
    for (const line of text.split("\n")) {
      if (line.includes(stateDir)) found.push(`${what} shows the state dir: ${line}`);
      if (line.includes(checkout)) found.push(`${what} shows the checkout: ${line}`);
      if (hostCmdline && line.includes(hostCmdline)) found.push(`${what} shows the host's boot line: ${line}`);
    }
  }
  return found;
}

test("the state dir, the checkout and the host's boot line do not show inside, nor in a fork child", async () => {
  const id = await pool.create();
  assert.deepEqual(await hostFactsSeenIn(id), []);
  const res = await api("POST", `/v1/sandboxes/${id}/fork`, { n: 1 });
  const body = (await res.json()) as { children: string[] };
  assert.equal(res.status, 200, JSON.stringify(body));
  try {
    assert.deepEqual(await hostFactsSeenIn(body.children[0]!), []);
  } finally {
    await closeSandbox(body.children[0]!);
  }
});
