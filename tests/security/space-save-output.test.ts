// Saving a REPL for a Space pickles the tenant's objects, which runs the tenant's code
// (`__reduce__`), and what the guest kernel sends meanwhile is untrusted. An object that streams
// 600 MiB of stderr through the save's own connection once took hostd past V8's longest string
// and down, for every tenant. hostd now keeps only the end of that stderr; the freeze goes on.
import { test } from "node:test";
import assert from "node:assert/strict";
import { api, createSandbox, exec, hostdUrl } from "../support/api.js";
import { cgroupExists, eventually, sandboxPids } from "../support/host.js";

const FLOOD = `
import gc
class Boom:
    def __reduce__(self):
        job = next(o for o in gc.get_objects() if type(o).__name__ == "Job" and getattr(o, "lang", None) == "space_save")
        for _ in range(600):
            job.conn.send({"t": "out", "id": job.id, "fd": 2}, b"E" * (1 << 20))
        return (int, (0,))
boom = Boom()
`;

test("600 MiB of stderr sent while a Space is saved: hostd keeps serving and the freeze completes", async () => {
  const id = await createSandbox({ persistent: true });
  const bystander = await createSandbox();
  const set = await exec(id, FLOOD);
  assert.equal(set.exitCode, 0, set.stderr);
  const freeze = await api("POST", `/v1/sandboxes/${id}/freeze`);
  const answer = (await freeze.json()) as { space_id?: string; manifest?: { saved: string[] } };
  assert.equal(freeze.status, 200, JSON.stringify(answer));
  assert.ok(answer.manifest?.saved.includes("boom"), JSON.stringify(answer.manifest));
  assert.equal((await fetch(`${hostdUrl()}/v1/healthz`)).status, 200);
  assert.equal((await exec(bystander, "print(6*7)")).stdout, "42\n", "another sandbox still works");
  assert.equal((await api("DELETE", `/v1/spaces/${answer.space_id}`)).status, 204);
  assert.equal((await api("DELETE", `/v1/sandboxes/${bystander}`)).status, 204);
});

test("globals with million-character names that cannot be pickled: the Space's manifest is bounded (it carried 7 MB per Space into the store and every list)", async () => {
  const id = await createSandbox({ persistent: true });
  const set = await exec(id, "import threading\nfor i in range(7): globals()[chr(97 + i) * 1_000_000] = threading.Lock()\nfor i in range(300): globals()[f'lock{i}'] = threading.Lock()");
  assert.equal(set.exitCode, 0, set.stderr);
  const freeze = await api("POST", `/v1/sandboxes/${id}/freeze`);
  const text = await freeze.text();
  assert.equal(freeze.status, 200, text.slice(0, 300));
  assert.ok(text.length < 100_000, `the freeze's answer is ${text.length} characters`);
  const answer = JSON.parse(text) as { space_id: string; manifest: { failed: { name: string; reason: string }[] } };
  assert.ok(answer.manifest.failed.every((f) => f.name.length <= 130), "a failed name was not clipped");
  assert.match(answer.manifest.failed.at(-1)!.name, /and \d+ more/, "the list past its limit is not counted");
  const listed = await (await api("GET", `/v1/spaces/${answer.space_id}`)).text();
  assert.ok(listed.length < 100_000, `GET /v1/spaces/:id is ${listed.length} characters`);
  assert.equal((await api("DELETE", `/v1/spaces/${answer.space_id}`)).status, 204);
});

test("closing a sandbox whose freeze hangs in the tenant's own pickling code: DELETE answers at once and nothing of it runs on (it ran uncounted for the save's 300 s)", async () => {
  const id = await createSandbox({ persistent: true });
  const set = await exec(id, "import time\nclass Hang:\n    def __reduce__(self):\n        open('/tmp/reducing', 'w').close()\n        while True: time.sleep(1)\nh = Hang()");
  assert.equal(set.exitCode, 0, set.stderr);
  const freeze = api("POST", `/v1/sandboxes/${id}/freeze`).then(async (r) => ({ status: r.status, body: await r.text() }));
  // The save is under way once the tenant's __reduce__ runs.
  await eventually(async () => (await api("GET", `/v1/sandboxes/${id}/files?path=/tmp/reducing`)).status === 200, "the freeze never reached __reduce__", 20_000);
  const closed = api("DELETE", `/v1/sandboxes/${id}`).then((r) => r.status);
  const status = await Promise.race([closed, new Promise<string>((r) => setTimeout(() => r("no answer within 20 s"), 20_000).unref())]);
  assert.equal(status, 204);
  const frozen = await freeze;
  assert.equal(frozen.status, 404, frozen.body);
  assert.match(frozen.body, /"code":"sandbox_not_found"/);
  assert.deepEqual(sandboxPids(id), [], "processes of the closed sandbox still run");
  assert.equal(cgroupExists(id), false, "the closed sandbox's cgroup is still there");
});
