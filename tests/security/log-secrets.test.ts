// hostd's log never holds a key or a code body (issue 19). Attacks: a valid key, a wrong key and
// an admin key carrying a marker; code, a traceback, env, metadata, an upload and a file path
// carrying it; a body that is not JSON and starts with it (its parse error quotes the body);
// the marker in the URL's path and query and in an X-Request-Id. hostd's whole output is read
// afterwards: one JSON object per line, a request line for each call, and no marker anywhere.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import net from "node:net";
import { api } from "../support/api.js";
import { until } from "../support/host.js";
import { ownHostd, startTestHostd, teardownStateDir, type TestHostd } from "../support/hostd-process.js";

const { stateDir, port } = ownHostd("log-secrets", 28);
const MARK = "zq7LOGMARKERq7z";
const userKey = `pf_live_${MARK}_user_0123456789abcdef`;
const adminKey = `pf_admin_${MARK}_0123456789abcdef`;
const as = (key: string) => ({ authorization: `Bearer ${key}` });
let hostd: TestHostd;
let sandboxId = "";

before(async () => {
  fs.mkdirSync(stateDir, { recursive: true });
  // startTestHostd appends to this file: an earlier run's lines are not this run's to judge.
  fs.rmSync(`/tmp/podflare-test-hostd-${port}.log`, { force: true });
  hostd = await startTestHostd({ stateDir, port, env: { PODFLARE_API_KEYS: userKey, PODFLARE_ADMIN_KEY: adminKey } });
});

after(async () => {
  if (sandboxId) await (await api("DELETE", `/v1/sandboxes/${sandboxId}`, undefined, hostd.url, as(userKey))).arrayBuffer();
  await hostd?.stop();
  teardownStateDir(stateDir);
});

/** The JSON lines hostd wrote (the template build's progress bar is not JSON only on a terminal). */
function logLines(): Record<string, unknown>[] {
  return hostd
    .log()
    .split("\n")
    .filter((l) => l.trim() !== "" && !/^(building template|template \S+ ready|\S+: +\S+ )/.test(l) && !l.startsWith("podflare hostd listening"))
    .map((l) => {
      try {
        return JSON.parse(l) as Record<string, unknown>;
      } catch {
        throw new Error(`hostd wrote a line that is not JSON: ${l}`);
      }
    });
}

test("a marker in keys, code, bodies, paths and headers never reaches hostd's log", async () => {
  const ids: string[] = [];
  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await api(method, path, body, hostd.url, headers);
    await res.arrayBuffer();
    const id = res.headers.get("x-request-id");
    assert.ok(id, `${method} ${path} answered without X-Request-Id`);
    ids.push(id);
    return { status: res.status, id };
  };

  const created = await api("POST", "/v1/sandboxes", { env: { SECRET: MARK }, metadata: { note: MARK } }, hostd.url, as(userKey));
  const body = (await created.json()) as { id: string };
  assert.equal(created.status, 200, JSON.stringify(body));
  sandboxId = body.id;
  ids.push(created.headers.get("x-request-id")!);
  const sb = `/v1/sandboxes/${sandboxId}`;

  assert.equal((await call("POST", `${sb}/exec`, { code: `print("${MARK}")\nraise ValueError("${MARK}")` }, as(userKey))).status, 200);
  assert.equal((await call("POST", `${sb}/exec`, { code: `echo ${MARK} >&2; exit 3`, language: "bash" }, as(userKey))).status, 200);
  assert.equal((await call("PUT", `${sb}/files?path=/root/${MARK}.txt`, new TextEncoder().encode(MARK), as(userKey))).status, 204);
  assert.equal((await call("GET", `${sb}/files?path=/root/${MARK}.txt`, undefined, as(userKey))).status, 200);
  assert.equal((await call("POST", `${sb}/exec`, `${MARK} is not JSON`, { ...as(userKey), "content-type": "application/json" })).status, 400);
  assert.equal((await call("GET", "/v1/sandboxes", undefined, as(`pf_live_${MARK}_wrong`))).status, 401);
  assert.equal((await call("GET", `/v1/sandboxes/${MARK}?token=${MARK}`, undefined, as(userKey))).status, 404);
  assert.equal((await call("GET", `/v1/${MARK}`, undefined, as(userKey))).status, 404);
  assert.equal((await call("GET", "/v1/keys", undefined, as(adminKey))).status, 200);
  // A request id with a space in it is not taken: hostd makes its own.
  const insane = await call("GET", "/v1/sandboxes", undefined, { ...as(userKey), "x-request-id": `${MARK} x` });
  assert.doesNotMatch(insane.id, new RegExp(MARK));
  const sane = await call("GET", "/v1/sandboxes", undefined, { ...as(userKey), "x-request-id": "trace-1234.abc" });
  assert.equal(sane.id, "trace-1234.abc");

  // A request line is written when its answer ends: wait for the last one.
  const lines = await until(async () => {
    const all = logLines();
    return all.some((l) => l.request_id === "trace-1234.abc") ? all : undefined;
  }, "the request lines of every call");
  const requests = lines.filter((l) => l.msg === "request");
  for (const id of ids) assert.ok(requests.some((l) => l.request_id === id), `no log line for request ${id}`);
  for (const l of lines) {
    assert.equal(typeof l.ts, "string");
    assert.ok(["info", "warn", "error"].includes(l.level as string), `level of ${JSON.stringify(l)}`);
  }
  const exec = requests.find((l) => l.route === "/v1/sandboxes/:id/exec" && l.status === 200)!;
  assert.equal(exec.method, "POST");
  assert.equal(exec.sandbox_id, sandboxId);
  assert.match(exec.key_id as string, /^key_[0-9a-f]{16}$/);
  assert.equal(typeof exec.duration_ms, "number");
  assert.ok(!hostd.log().includes(MARK), `the marker is in hostd's log:\n${hostd.log().split("\n").filter((l) => l.includes(MARK)).join("\n")}`);
});

test("a client that hangs up halfway through its body is a 499 line, not an internal error", async () => {
  const requestId = "hangup-mid-body-1";
  await new Promise<void>((resolve, reject) => {
    const s = net.connect(Number(new URL(hostd.url).port), "127.0.0.1", () => {
      s.write(
        `POST /v1/sandboxes HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${userKey}\r\ncontent-type: application/json\r\n` +
          `content-length: 100\r\nx-request-id: ${requestId}\r\n\r\n{"template":`,
      );
      // Hang up once hostd has the head (the line is only logged for a request it read).
      setImmediate(() => s.destroy());
      resolve();
    });
    s.on("error", reject);
  });
  const line = await until(async () => logLines().find((l) => l.request_id === requestId), "the hung-up request's log line");
  assert.equal(line.status, 499, JSON.stringify(line));
  assert.equal(line.level, "info", JSON.stringify(line));
  const internal = logLines().filter((l) => String(l.msg).startsWith("internal error"));
  assert.deepEqual(internal, [], "a client hanging up is not hostd's bug");
});
