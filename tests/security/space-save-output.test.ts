// Saving a REPL for a Space pickles the tenant's objects, which runs the tenant's code
// (`__reduce__`), and what the guest kernel sends meanwhile is untrusted. An object that streams
// 600 MiB of stderr through the save's own connection once took hostd past V8's longest string
// and down, for every tenant. hostd now keeps only the end of that stderr; the freeze goes on.
import { test } from "node:test";
import assert from "node:assert/strict";
import { api, createSandbox, exec, hostdUrl } from "../support/api.js";

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
  const listed = await (await api("GET", "/v1/spaces")).text();
  assert.ok(listed.length < 1_000_000, `GET /v1/spaces is ${listed.length} characters`);
  assert.equal((await api("DELETE", `/v1/spaces/${answer.space_id}`)).status, 204);
});
