// Spaces (issue 4): freeze to disk, survive a hostd restart, resume once — through a hostd of
// this test's own, with python-datasci for pandas and scikit-learn.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import Database from "better-sqlite3";
import { api, closeSandbox, createSandbox, exec, execStarted } from "../support/api.js";
import { eventually } from "../support/host.js";
import { ownHostd, startTestHostd, teardownStateDir, type TestHostd } from "../support/hostd-process.js";

const { stateDir, port } = ownHostd("spaces", 13);
const env = { PODFLARE_TEMPLATES: "default,python-datasci", PODFLARE_POOL_SIZE: "1" };
let hostd: TestHostd;

before(async () => {
  hostd = await startTestHostd({ stateDir, port, env });
});
after(async () => {
  const list = (await (await api("GET", "/v1/sandboxes", undefined, hostd.url)).json()) as { sandboxes: { id: string }[] };
  for (const s of list.sandboxes) await closeSandbox(s.id, hostd.url);
  const spaces = (await (await api("GET", "/v1/spaces", undefined, hostd.url)).json()) as { spaces: { space_id: string }[] };
  for (const s of spaces.spaces) await api("DELETE", `/v1/spaces/${s.space_id}`, undefined, hostd.url);
  await hostd.stop();
  teardownStateDir(stateDir);
});

test("a DataFrame, a trained model and files survive freeze → hostd restart → resume; what cannot be kept is listed", async () => {
  const id = await createSandbox({ template: "python-datasci", persistent: true }, hostd.url);
  const setup = [
    "import pandas as pd",
    "from sklearn.linear_model import LinearRegression",
    "df = pd.DataFrame({'x': [1.0, 2.0, 3.0, 4.0], 'y': [3.0, 5.0, 7.0, 9.0]})",
    "model = LinearRegression().fit(df[['x']].values, df['y'].values)",
    "double = lambda v: 2 * v",
    "import socket",
    "conn = socket.socket()",
    "open('/root/notes.txt', 'w').write('written before freeze')",
  ].join("\n");
  assert.equal((await exec(id, setup, {}, hostd.url)).exitCode, 0);
  await exec(id, "sleep 600 &", { language: "bash" }, hostd.url);
  const frozen = await api("POST", `/v1/sandboxes/${id}/freeze`, undefined, hostd.url);
  assert.equal(frozen.status, 200);
  const space = (await frozen.json()) as { space_id: string; manifest: { saved: string[]; failed: { name: string }[]; processes: string[] } };
  assert.match(space.space_id, /^spc_[0-9a-f]{32}$/);
  assert.ok(space.manifest.saved.includes("df") && space.manifest.saved.includes("model") && space.manifest.saved.includes("double"));
  assert.deepEqual(space.manifest.failed.map((f) => f.name), ["conn"]);
  assert.ok(space.manifest.processes.some((p) => p.includes("sleep 600")));
  assert.equal((await api("GET", `/v1/sandboxes/${id}`, undefined, hostd.url)).status, 404, "the frozen sandbox is closed");

  await hostd.stop("SIGKILL");
  hostd = await startTestHostd({ stateDir, port, env });
  const listed = (await (await api("GET", "/v1/spaces", undefined, hostd.url)).json()) as { spaces: { space_id: string }[] };
  assert.ok(listed.spaces.some((s) => s.space_id === space.space_id));

  const res = await api("POST", `/v1/spaces/${space.space_id}/resume`, undefined, hostd.url);
  assert.equal(res.status, 200);
  const resumed = (await res.json()) as { id: string; restored: string[]; not_restored: { name: string }[] };
  assert.ok(resumed.restored.includes("df") && resumed.restored.includes("pd"));
  assert.ok(resumed.not_restored.some((n) => n.name === "conn"));
  assert.ok(resumed.not_restored.some((n) => n.name.includes("sleep 600")));
  const check = await exec(resumed.id, "print(df['y'].sum(), round(float(model.predict([[10.0]])[0]), 3), double(21), open('/root/notes.txt').read())", {}, hostd.url);
  assert.equal(check.stdout, "24.0 21.0 42 written before freeze\n", check.stderr);

  const again = await api("POST", `/v1/spaces/${space.space_id}/resume`, undefined, hostd.url);
  assert.equal(again.status, 404, "a Space resumes once");
  assert.equal(((await again.json()) as { code: string }).code, "space_not_found");
  await closeSandbox(resumed.id, hostd.url);
});

test("default template (pickle): what is defined in the REPL is listed failed at freeze, not said saved and lost at resume", async () => {
  const id = await createSandbox({ persistent: true }, hostd.url);
  const setup = "def helper(x):\n    return x + 1\nclass C:\n    pass\nobj = C()\nmarker = 42\nkept = [1, {'a': 2}]";
  assert.equal((await exec(id, setup, {}, hostd.url)).exitCode, 0);
  const frozen = await api("POST", `/v1/sandboxes/${id}/freeze`, undefined, hostd.url);
  assert.equal(frozen.status, 200);
  const space = (await frozen.json()) as { space_id: string; manifest: { saved: string[]; failed: { name: string; reason: string }[] } };
  assert.deepEqual(space.manifest.saved, ["kept", "marker"]);
  assert.deepEqual(space.manifest.failed.map((f) => f.name).sort(), ["C", "helper", "obj"]);
  for (const f of space.manifest.failed) assert.match(f.reason, /defined in the REPL.*define it again after resume/);
  const res = await api("POST", `/v1/spaces/${space.space_id}/resume`, undefined, hostd.url);
  assert.equal(res.status, 200);
  const resumed = (await res.json()) as { id: string; restored: string[] };
  assert.deepEqual(resumed.restored.filter((n) => n === "marker" || n === "kept").sort(), ["kept", "marker"]);
  assert.equal((await exec(resumed.id, "print(marker, kept)", {}, hostd.url)).stdout, "42 [1, {'a': 2}]\n");
  await closeSandbox(resumed.id, hostd.url);
});

test("unknown Space → 404 on every route; delete removes one", async () => {
  for (const [m, p] of [["GET", ""], ["POST", "/resume"], ["DELETE", ""]] as const) {
    const res = await api(m, `/v1/spaces/spc_00000000000000000000000000000000${p}`, undefined, hostd.url);
    assert.equal(res.status, 404);
  }
  const id = await createSandbox({}, hostd.url);
  const { space_id } = (await (await api("POST", `/v1/sandboxes/${id}/freeze`, undefined, hostd.url)).json()) as { space_id: string };
  assert.equal((await api("DELETE", `/v1/spaces/${space_id}`, undefined, hostd.url)).status, 204);
  assert.equal((await api("POST", `/v1/spaces/${space_id}/resume`, undefined, hostd.url)).status, 404);
});

test("four resumes of one Space at once: one sandbox, three 404s; the losers start no sandbox and count none", async () => {
  const id = await createSandbox({}, hostd.url);
  await exec(id, "kept = 'once'", {}, hostd.url);
  const { space_id } = (await (await api("POST", `/v1/sandboxes/${id}/freeze`, undefined, hostd.url)).json()) as { space_id: string };
  const created = async () => ((await (await api("GET", "/v1/usage", undefined, hostd.url)).json()) as { sandboxes_created: number }).sandboxes_created;
  const before = await created();
  const answers = await Promise.all(Array.from({ length: 4 }, () => api("POST", `/v1/spaces/${space_id}/resume`, undefined, hostd.url)));
  const statuses = answers.map((r) => r.status).sort();
  assert.deepEqual(statuses, [200, 404, 404, 404]);
  const won = (await answers.find((r) => r.status === 200)!.json()) as { id: string };
  for (const r of answers) if (r.status !== 200) await r.arrayBuffer();
  assert.equal((await exec(won.id, "print(kept)", {}, hostd.url)).stdout, "once\n");
  assert.equal((await created()) - before, 1, "the losing resumes made sandboxes too");
  await closeSandbox(won.id, hostd.url);
});

test("freezing a sandbox whose disk is full answers 507 no_space, and the sandbox keeps its state", async () => {
  // An outside tester froze on a full pool and got 500 runtime_error ("internal error in the
  // guest kernel"): the REPL state's save hit ENOSPC, which is the user's to fix.
  const id = await createSandbox({ persistent: true, disk_mb: 64 }, hostd.url);
  assert.equal((await exec(id, "kept = bytearray(8_000_000)", {}, hostd.url)).exitCode, 0);
  const fill = await exec(id, "dd if=/dev/zero of=/root/fill bs=1M 2>&1", { language: "bash", timeout_ms: 60_000 }, hostd.url);
  assert.match(fill.stdout, /No space left|Disk quota exceeded/, fill.stdout + fill.stderr);
  const res = await api("POST", `/v1/sandboxes/${id}/freeze`, undefined, hostd.url);
  const body = (await res.json()) as { code: string; error: string };
  assert.equal(res.status, 507, JSON.stringify(body));
  assert.equal(body.code, "no_space");
  assert.match(body.error, /larger disk_mb/);
  assert.equal((await exec(id, "print(len(kept))", {}, hostd.url)).stdout, "8000000\n");
  await closeSandbox(id, hostd.url);
});

test("kill -9 of hostd in the middle of 10 concurrent execs: every sandbox answers after restart and the store is intact", async () => {
  const ids = await Promise.all(Array.from({ length: 10 }, () => createSandbox({}, hostd.url)));
  // In flight for sure: every exec's first line came back before hostd is killed.
  const running = await Promise.all(
    ids.map((id) => execStarted(id, "import time\nfor i in range(20):\n    print(i, flush=True)\n    time.sleep(0.05)\ndone = True", hostd.url)),
  );
  await hostd.stop("SIGKILL");
  await Promise.all(running.map((r) => r.rest));
  hostd = await startTestHostd({ stateDir, port, env });
  const db = new Database(path.join(stateDir, "podflare.db"), { readonly: true });
  assert.equal((db.pragma("integrity_check", { simple: true }) as string), "ok");
  db.close();
  for (const id of ids) {
    const done = async () => (await exec(id, "print(globals().get('done'))", {}, hostd.url)).stdout === "True\n";
    await eventually(done, `${id} did not finish its exec while hostd was down`, 10_000);
    await closeSandbox(id, hostd.url);
  }
});
