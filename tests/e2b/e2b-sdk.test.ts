// The unmodified `e2b` SDK against hostd: control plane, envd files and health, and the calls
// not served yet answering E2B's typed errors (docs/e2b.md).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { ALL_TRAFFIC, NotFoundError, Sandbox, SandboxError, SandboxNotFoundError, TimeoutError } from "e2b";
import { api, exec, hostdUrl } from "../support/api.js";
import { eventually } from "../support/host.js";
import { Made, pointE2bAt } from "./support.js";

const made = new Made();
let sbx: Sandbox;

before(async () => {
  pointE2bAt();
  sbx = made.track(await Sandbox.create({ metadata: { suite: "e2b-sdk", run: String(process.pid) } }));
});
after(() => made.killAll());

test("Sandbox.create gives a Podflare sandbox; getInfo and isRunning describe it", async () => {
  assert.match(sbx.sandboxId, /^sbx_[0-9a-f]{32}$/);
  const info = await sbx.getInfo();
  assert.equal(info.sandboxId, sbx.sandboxId);
  assert.equal(info.templateId, "default");
  assert.equal(info.name, "base");
  assert.equal(info.state, "running");
  assert.deepEqual(info.metadata, { suite: "e2b-sdk", run: String(process.pid) });
  assert.ok(info.endAt > info.startedAt);
  assert.equal(await sbx.isRunning(), true);
  const ours = await api("GET", `/v1/sandboxes/${sbx.sandboxId}`);
  assert.equal(ours.status, 200, "the sandbox is an ordinary Podflare sandbox");
  // E2B has no lifetime beside its timeout: the tier's longest (enterprise, the local caller's: 7 days), not the 30 min default.
  assert.equal(((await ours.json()) as { applied: { max_lifetime_s: number } }).applied.max_lifetime_s, 7 * 86400);
});

test("E2B's \"deny all traffic except\" network policy becomes an allow list: the allowed name resolves, others do not", async () => {
  const net = made.track(await Sandbox.create({ network: { denyOut: [ALL_TRAFFIC], allowOut: ["pkgs.test"] } }));
  const ours = (await (await api("GET", `/v1/sandboxes/${net.sandboxId}`)).json()) as { network: { egress: boolean; allow_out: string[] | null; deny_out: string[] } };
  assert.deepEqual({ egress: ours.network.egress, allow_out: ours.network.allow_out, deny_out: ours.network.deny_out }, { egress: true, allow_out: ["pkgs.test"], deny_out: [] });
  assert.deepEqual((await net.getInfo()).network?.allowOut, ["pkgs.test"]);
  const r = await net.commands.run("getent hosts pkgs.test; getent hosts other.test || echo refused");
  assert.equal(r.stdout.replace(/\s+/g, " ").trim(), "198.51.100.2 pkgs.test refused");
  // allowOut alone restricts nothing on E2B, and here.
  const open = made.track(await Sandbox.create({ network: { allowOut: ["pkgs.test"] } }));
  const openInfo = (await (await api("GET", `/v1/sandboxes/${open.sandboxId}`)).json()) as { network: { allow_out: string[] | null; deny_out: string[] } };
  assert.deepEqual([openInfo.network.allow_out, openInfo.network.deny_out], [null, []]);
  await Promise.all([net.kill(), open.kill()]);
});

test("files.write and files.read: text and binary, several files at once, the same files our REST API sees", async () => {
  const info = await sbx.files.write("/root/e2b/hello.txt", "héllo\nwörld");
  assert.deepEqual({ name: info.name, path: info.path, type: info.type }, { name: "hello.txt", path: "/root/e2b/hello.txt", type: "file" });
  assert.equal(await sbx.files.read("/root/e2b/hello.txt"), "héllo\nwörld");
  const bytes = new Uint8Array(256).map((_, i) => i);
  await sbx.files.write("/root/e2b/all.bin", bytes.buffer);
  assert.deepEqual(await sbx.files.read("/root/e2b/all.bin", { format: "bytes" }), bytes);
  await sbx.files.write([
    { path: "/root/e2b/one.txt", data: "1" },
    { path: "/root/e2b/two.txt", data: new Blob(["2"]) },
  ]);
  const r = await exec(sbx.sandboxId, "print(open('/root/e2b/one.txt').read() + open('/root/e2b/two.txt').read() + str(len(open('/root/e2b/all.bin','rb').read())))");
  assert.equal(r.stdout, "12256\n");
  await sbx.files.write("/root/e2b/日本 語.txt", "unicode path");
  assert.equal(await sbx.files.read("/root/e2b/日本 語.txt"), "unicode path");
  await assert.rejects(sbx.files.read("/root/e2b/missing.txt"), NotFoundError);
});

test("files.write streams a ReadableStream as octet-stream, gzip-compressed on request", async () => {
  const big = "0123456789abcdef".repeat(64 * 1024); // 1 MiB
  const stream = new ReadableStream<Uint8Array>({
    start(c) {
      c.enqueue(new TextEncoder().encode(big.slice(0, 1000)));
      c.enqueue(new TextEncoder().encode(big.slice(1000)));
      c.close();
    },
  });
  await sbx.files.write("/root/e2b/streamed.txt", stream);
  assert.equal(await sbx.files.read("/root/e2b/streamed.txt"), big);
  await sbx.files.write("/root/e2b/gz.txt", "compressed on the wire", { gzip: true });
  assert.equal(await sbx.files.read("/root/e2b/gz.txt"), "compressed on the wire");
});

test("setTimeout moves the end to that long from now, whatever runs (E2B's timeout): our lifetime_s", async () => {
  await sbx.setTimeout(90_000);
  const ours = (await (await api("GET", `/v1/sandboxes/${sbx.sandboxId}`)).json()) as { created_at: string; applied: { idle_timeout_s: number; lifetime_s: number } };
  assert.equal(ours.applied.idle_timeout_s, 90);
  const end = Date.parse(ours.created_at) + ours.applied.lifetime_s * 1000;
  assert.ok(end >= Date.now() + 89_000 && end <= Date.now() + 92_000, `ends ${(end - Date.now()) / 1000} s from now`);
  const info = await sbx.getInfo();
  assert.ok(Math.abs(info.endAt.getTime() - end) < 1000, `endAt ${info.endAt.toISOString()}`);
});

test("a sandbox is ended at its timeoutMs though a command runs in it (it ran on to the tier's lifetime)", async () => {
  const short = made.track(await Sandbox.create({ timeoutMs: 4000 }));
  await short.commands.run("sleep 600", { background: true });
  assert.equal(await short.isRunning(), true);
  await eventually(async () => {
    const r = await api("GET", `/v1/sandboxes/${short.sandboxId}`);
    await r.arrayBuffer();
    return r.status === 404;
  }, "the sandbox outlived its 4 s timeout by 26 s", 30_000);
  await assert.rejects(() => short.files.read("/etc/hostname"), (err: Error) => err instanceof SandboxError || err instanceof TimeoutError || err instanceof NotFoundError);
});

test("a paused sandbox's timeout does not run; connect sets a new one", async () => {
  const p = made.track(await Sandbox.create({ timeoutMs: 60_000 }));
  await p.pause();
  const held = (await (await api("GET", `/v1/sandboxes/${p.sandboxId}`)).json()) as { applied: { lifetime_s: number; max_lifetime_s: number } };
  assert.equal(held.applied.lifetime_s, held.applied.max_lifetime_s);
  await Sandbox.connect(p.sandboxId, { timeoutMs: 120_000 });
  const back = (await (await api("GET", `/v1/sandboxes/${p.sandboxId}`)).json()) as { created_at: string; applied: { lifetime_s: number } };
  const end = Date.parse(back.created_at) + back.applied.lifetime_s * 1000;
  assert.ok(end >= Date.now() + 119_000 && end <= Date.now() + 122_000, `ends ${(end - Date.now()) / 1000} s from now`);
});

test("Sandbox.list finds the sandbox by metadata and state", async () => {
  const query = { metadata: { suite: "e2b-sdk", run: String(process.pid) } };
  const running = await Sandbox.list({ query: { ...query, state: ["running"] } }).nextItems();
  assert.deepEqual(running.map((s) => s.sandboxId), [sbx.sandboxId]);
  assert.equal(running[0]!.state, "running");
  assert.deepEqual(await Sandbox.list({ query: { ...query, state: ["paused"] } }).nextItems(), []);
  assert.deepEqual(await Sandbox.list({ query: { metadata: { suite: "no-such-suite" } } }).nextItems(), []);
});

test("pause, then Sandbox.connect resumes it with its files and its REPL state", async () => {
  const other = made.track(await Sandbox.create());
  assert.equal((await exec(other.sandboxId, "kept = 6 * 7")).exitCode, 0);
  await other.files.write("/root/kept.txt", "still here");
  assert.equal(await other.pause(), true);
  assert.equal((await other.getInfo()).state, "paused");
  assert.equal(await other.pause(), false, "pausing a paused sandbox says so (409)");
  assert.equal(await other.isRunning(), false, "a paused sandbox is not running, as on E2B");
  assert.equal((await other.getInfo()).state, "paused", "asking did not wake it");
  const back = await Sandbox.connect(other.sandboxId);
  assert.equal(await back.isRunning(), true);
  assert.equal((await back.getInfo()).state, "running");
  assert.equal(await back.files.read("/root/kept.txt"), "still here");
  assert.equal((await exec(other.sandboxId, "print(kept)")).stdout, "42\n");
});

test("Sandbox.fork: each child starts from the parent's files", async () => {
  await sbx.files.write("/root/fork-me.txt", "parent");
  const [child] = await sbx.fork({ count: 1 });
  assert.ok(child instanceof Sandbox, String(child));
  made.track(child);
  assert.equal(await child.files.read("/root/fork-me.txt"), "parent");
  assert.notEqual(child.sandboxId, sbx.sandboxId);
});

test("Sandbox.fork({timeoutMs}) gives each child its own timeout, also past its parent's (it was held to the parent's end)", async () => {
  const parent = made.track(await Sandbox.create({ timeoutMs: 20_000 }));
  const [child] = await parent.fork({ count: 1, timeoutMs: 120_000 });
  assert.ok(child instanceof Sandbox, String(child));
  made.track(child);
  const applied = async (id: string) => ((await (await api("GET", `/v1/sandboxes/${id}`)).json()) as { applied: { lifetime_s?: number } }).applied;
  const end = (await applied(child.sandboxId)).lifetime_s!;
  assert.ok(end >= 119 && end <= 121, `the child's lifetime_s: ${end}`);
  assert.ok((await applied(parent.sandboxId)).lifetime_s! <= 21, "the parent's timeout is its own");
});

test("calls not served answer E2B's typed error, and hostd keeps serving", async () => {
  await assert.rejects(sbx.getMetrics(), (e: Error) => e instanceof SandboxError && /501/.test(e.message) && /not supported yet/.test(e.message));
  await assert.rejects(sbx.createSnapshot(), (e: Error) => e instanceof SandboxError && /not supported yet/.test(e.message));
  await assert.rejects(Sandbox.create({ lifecycle: { onTimeout: "pause" } }), (e: Error) => e instanceof SandboxError && /autoPause.*not supported yet/.test(e.message));
  assert.equal(await sbx.isRunning(), true);
  assert.equal((await fetch(`${hostdUrl()}/v1/healthz`)).status, 200);
});

test("sandbox traffic routed by a <port>-<id>.<domain> Host works like the E2B headers", async () => {
  const info = await Sandbox.connect(sbx.sandboxId);
  const token = (info as unknown as { envdAccessToken?: string }).envdAccessToken ?? "";
  const url = new URL(hostdUrl());
  const status = await new Promise<number>((resolve, reject) => {
    const req = http.request({ host: url.hostname, port: url.port, path: "/health", headers: { host: `49983-${sbx.sandboxId}.e2b.local`, "x-access-token": token } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("error", reject);
    req.end();
  });
  assert.equal(status, 204);
});

test("kill closes it: kill again says false, getInfo says not found, isRunning says false", async () => {
  const doomed = await Sandbox.create();
  assert.equal(await doomed.kill(), true);
  assert.equal(await doomed.kill(), false);
  await assert.rejects(doomed.getInfo(), SandboxNotFoundError);
  assert.equal(await doomed.isRunning(), false);
  // Its traffic is E2B's edge's 502, which the SDK calls a sandbox timeout: never "file not found".
  await assert.rejects(doomed.files.read("/etc/hostname"), (e: Error) => e instanceof TimeoutError && /not found/.test(e.message));
  await assert.rejects(doomed.files.write("/root/x.txt", "x"), (e: Error) => e instanceof TimeoutError);
  // A pre-signed URL names no sandbox: a clean 501 in E2B's shape, not a 404 from the REST API.
  const presigned = await fetch(`${hostdUrl()}/files?path=%2Froot%2Fx&signature=v1_abc&signature_expiration=1`);
  assert.equal(presigned.status, 501);
  assert.match(((await presigned.json()) as { message: string }).message, /pre-signed file URLs.*not supported yet/);
});
