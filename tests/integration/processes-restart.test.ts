// Processes started through the API survive a hostd restart with their table: the guest kernel
// keeps running, so the new hostd lists, streams and feeds them as before.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { api, closeSandbox, createSandbox } from "../support/api.js";
import { ownHostd, startTestHostd, teardownStateDir, type TestHostd } from "../support/hostd-process.js";

const { stateDir, port } = ownHostd("procs-restart", 22);
let hostd: TestHostd;

before(async () => {
  hostd = await startTestHostd({ stateDir, port });
});

after(async () => {
  await hostd.stop();
  teardownStateDir(stateDir);
});

test("after kill -9 and a restart of hostd, an API process is listed, replays its output and takes stdin", async () => {
  const id = await createSandbox({}, hostd.url);
  const P = `/v1/sandboxes/${id}/processes`;
  const res = await api("POST", P, { cmd: "echo before; read line; echo after:$line", tag: "kept", stdin: true }, hostd.url);
  assert.equal(res.status, 200);
  await hostd.stop("SIGKILL");
  hostd = await startTestHostd({ stateDir, port });
  const list = (await (await api("GET", P, undefined, hostd.url)).json()) as { processes: { tag: string; running: boolean }[] };
  assert.deepEqual(list.processes.map((p) => [p.tag, p.running]), [["kept", true]]);
  assert.equal((await api("POST", `${P}/kept/stdin`, { data: "x\n" }, hostd.url)).status, 204);
  const text = await (await api("GET", `${P}/kept/stream`, undefined, hostd.url)).text();
  const events = text.trim().split("\n").map((l) => JSON.parse(l) as { type: string; data?: string; exit_code?: number });
  assert.equal(events.filter((e) => e.type === "stdout").map((e) => e.data).join(""), "before\nafter:x\n");
  assert.equal(events.at(-1)!.exit_code, 0);
  await closeSandbox(id, hostd.url);
});
