// Revoking a key ends what it has open, not only its next request (docs/api.md, "Keys"): its
// PTY, an exec stream and an E2B command stream close at once, and its sandboxes are closed;
// another key's are untouched. Also for a revocation made by `podflare keys revoke` in another
// process, within the sweep's interval. A hostd of this test's own, with an admin key.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { Sandbox as E2bSandbox } from "e2b";
import { Sandbox, type Terminal } from "podflare";
import { api } from "../support/api.js";
import { eventually } from "../support/host.js";
import { ownHostd, runCli, startTestHostd, teardownStateDir, type TestHostd } from "../support/hostd-process.js";

const { stateDir, port } = ownHostd("revocation", 80);
const ADMIN = "pf_test_admin_revocation_aaaaaaaaaaaaaaaaaaaaaa";
const as = (key: string) => ({ authorization: `Bearer ${key}` });
let hostd: TestHostd;

before(async () => {
  hostd = await startTestHostd({ stateDir, port, env: { PODFLARE_ADMIN_KEY: ADMIN } });
});
after(async () => {
  await hostd.stop();
  teardownStateDir(stateDir);
});

async function makeKey(name: string): Promise<{ key: string; id: string }> {
  const res = await api("POST", "/v1/keys", { name, tier: "pro" }, hostd.url, as(ADMIN));
  const body = (await res.json()) as { key: string; id: string };
  assert.equal(res.status, 200, JSON.stringify(body));
  return body;
}

async function liveIds(): Promise<string[]> {
  const res = await api("GET", "/v1/sandboxes?all=true", undefined, hostd.url, as(ADMIN));
  return ((await res.json()) as { sandboxes: { id: string }[] }).sandboxes.map((s) => s.id);
}

/** Settles "closed" once the terminal's connection is gone. */
function closedOf(t: Terminal): Promise<string> {
  return t.exited.then((e) => `exited ${JSON.stringify(e)}`, (err: Error) => `closed: ${err.message}`);
}

/** A terminal of `sb` that answers: the shell echoes a computed word. */
async function liveTerminal(sb: Sandbox): Promise<{ t: Terminal; answers: () => Promise<boolean> }> {
  const t = await sb.pty.open();
  let out = "";
  t.onData((b) => void (out += b.toString("utf8")));
  let n = 0;
  const answers = async () => {
    const word = `alive-${++n}-$((6*7))`;
    t.write(`echo ${word}\r`);
    try {
      await eventually(() => out.includes(`alive-${n}-42`), "the terminal answers", 5000);
      return true;
    } catch {
      return false;
    }
  };
  assert.ok(await answers(), "the terminal never answered");
  return { t, answers };
}

test("revoking a key through the API closes its PTY, exec stream and E2B command stream at once, and its sandboxes; another key's stay", async () => {
  const revoked = await makeKey("revoked");
  const other = await makeKey("other");
  const sb = await Sandbox.create({ host: hostd.url, apiKey: revoked.key });
  const keep = await Sandbox.create({ host: hostd.url, apiKey: other.key });
  try {
    const { t } = await liveTerminal(sb);
    const ptyClosed = closedOf(t);
    const kept = await liveTerminal(keep);

    // An exec that prints for ten minutes, read as it streams.
    const stream = sb.runCodeStream("import time\nfor i in range(6000):\n    print(i, flush=True)\n    time.sleep(0.1)");
    assert.equal((await stream.next()).done, false);
    const streamEnded = (async () => {
      try {
        for await (const _ of stream) void _;
        return "ended";
      } catch (err) {
        return `error: ${(err as Error).message}`;
      }
    })();

    // An E2B command stream on the same key (envd's Connect-RPC through hostd).
    const e2b = await E2bSandbox.connect(sb.id, { apiKey: revoked.key, apiUrl: hostd.url, sandboxUrl: hostd.url });
    const command = await e2b.commands.run("sleep 600", { background: true });
    const commandEnded = command.wait().then((r) => `exited ${r.exitCode}`, (err: Error) => `error: ${err.message}`);

    const res = await api("DELETE", `/v1/keys/${revoked.id}`, undefined, hostd.url, as(ADMIN));
    assert.equal(res.status, 204, await res.text());

    const within = <T>(p: Promise<T>, what: string) =>
      Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what} stayed open after the revocation`)), 5000).unref())]);
    assert.match(await within(ptyClosed, "the PTY"), /^closed/);
    assert.match(await within(streamEnded, "the exec stream"), /^error/);
    assert.match(await within(commandEnded, "the E2B command stream"), /^error/);
    // Its sandbox is gone (nobody could reach it any more); the other key's sandbox and terminal are not.
    const ids = await liveIds();
    assert.ok(!ids.includes(sb.id), `the revoked key's sandbox still runs: ${ids.join(" ")}`);
    assert.ok(ids.includes(keep.id));
    assert.ok(await kept.answers(), "another key's terminal was closed too");
    kept.t.close();
  } finally {
    await keep.close();
  }
});

test("a key revoked by `podflare keys revoke` in another process: its PTY and sandboxes close within seconds", async () => {
  const revoked = await makeKey("revoked-by-cli");
  const sb = await Sandbox.create({ host: hostd.url, apiKey: revoked.key });
  const { t } = await liveTerminal(sb);
  let closed = "";
  void closedOf(t).then((why) => (closed = why));
  const cli = runCli(["keys", "revoke", revoked.id], stateDir);
  assert.equal(cli.status, 0, cli.stderr);
  await eventually(() => closed.startsWith("closed"), "the PTY of a key revoked by the CLI stayed open", 10_000);
  await eventually(async () => !(await liveIds()).includes(sb.id), "the sandbox of a key revoked by the CLI still runs", 10_000);
});

test("an admin closes another key's sandbox with DELETE ?all=true (the key stays); a non-admin may not, and without all=true it is 404", async () => {
  const owner = await makeKey("owner");
  const other = await makeKey("other-key");
  const sb = await Sandbox.create({ host: hostd.url, apiKey: owner.key });
  assert.equal((await api("DELETE", `/v1/sandboxes/${sb.id}?all=true`, undefined, hostd.url, as(other.key))).status, 403);
  assert.equal((await api("DELETE", `/v1/sandboxes/${sb.id}`, undefined, hostd.url, as(ADMIN))).status, 404);
  assert.ok((await liveIds()).includes(sb.id));
  assert.equal((await api("DELETE", `/v1/sandboxes/${sb.id}?all=true`, undefined, hostd.url, as(ADMIN))).status, 204);
  assert.ok(!(await liveIds()).includes(sb.id));
  // The key itself still works.
  const again = await Sandbox.create({ host: hostd.url, apiKey: owner.key });
  await again.close();
});

test("creates and a fork under way when the key is revoked through the API: what they make is closed, none is left running", async () => {
  // They finished after the revocation had listed the key's sandboxes, and ran on unreachable
  // until the reaper (outside tester tm: 8 of 8 creates, all 8 children of a fork).
  const { key, id } = await makeKey("revoked-mid-create");
  const parent = await api("POST", "/v1/sandboxes", {}, hostd.url, as(key));
  const parentId = ((await parent.json()) as { id: string }).id;
  // Memory sizes the warm pool does not hold: each create boots cold, and on this host the
  // boots end one after another. Revoked as soon as the first is made: the rest are under way.
  const creates = Array.from({ length: 8 }, (_, i) => api("POST", "/v1/sandboxes", { memory_mb: 300 + i }, hostd.url, as(key)).then((r) => r.status, () => 0));
  const fork = api("POST", `/v1/sandboxes/${parentId}/fork`, { n: 4 }, hostd.url, as(key)).then((r) => r.status, () => 0);
  const ownedBy = async (owner: string) =>
    ((await (await api("GET", "/v1/sandboxes?all=true", undefined, hostd.url, as(ADMIN))).json()) as { sandboxes: { id: string; owner?: string }[] }).sandboxes.filter((s) => s.owner === owner);
  await eventually(async () => (await ownedBy(id)).length >= 2, "no create of the key finished", 30_000);
  const revoke = await api("DELETE", `/v1/keys/${id}`, undefined, hostd.url, as(ADMIN));
  assert.equal(revoke.status, 204);
  const statuses = await Promise.all([...creates, fork]);
  assert.ok(statuses.some((s) => s === 401 || s === 0), `every call finished before the revocation (${statuses.join(", ")}): the race was not exercised`);
  let left: { id: string }[] = [];
  await eventually(async () => (left = await ownedBy(id)).length === 0, "the revoked key's sandboxes were not all closed", 10_000).catch(() => {
    assert.fail(`the revoked key still has ${left.length} sandbox(es) running: ${left.map((s) => s.id).join(", ")}`);
  });
});
