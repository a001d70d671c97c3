// The filesystem API: /v1/sandboxes/:id/fs/{stat,list,mkdir,move,remove,watch} (docs/api.md, "Filesystem").
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { SandboxPool, api, bash } from "../support/api.js";
import { openNdjson } from "../support/ndjson.js";

interface Entry { name: string; path: string; type: string; size: number; mode: number; permissions: string; owner: string; mtime_ms: number; symlink_target: string | null }
type Ev = { type: string; path?: string; name?: string };

const pool = new SandboxPool();
let id: string;
const F = (op: string, q = "") => `/v1/sandboxes/${id}/fs/${op}${q}`;
const q = (path: string, extra = "") => `?path=${encodeURIComponent(path)}${extra}`;

async function json<T>(res: Response, status = 200): Promise<T> {
  const text = await res.text();
  assert.equal(res.status, status, text);
  return (text ? JSON.parse(text) : undefined) as T;
}

before(async () => {
  id = await pool.create();
});
after(() => pool.closeAll());

test("list: name, path, type, size, mode, mtime and symlink target; depth goes down", async () => {
  await bash(id, "mkdir -p /root/ls/sub/deeper && printf abc > /root/ls/a.txt && chmod 640 /root/ls/a.txt && ln -s a.txt /root/ls/link && touch /root/ls/sub/deeper/z");
  const one = await json<{ entries: Entry[] }>(await api("GET", F("list", q("/root/ls"))));
  assert.deepEqual(one.entries.map((e) => [e.name, e.type]), [["a.txt", "file"], ["link", "symlink"], ["sub", "dir"]]);
  const a = one.entries[0]!;
  assert.deepEqual([a.path, a.size, a.mode, a.permissions, a.owner], ["/root/ls/a.txt", 3, 0o640, "-rw-r-----", "root"]);
  assert.ok(Math.abs(a.mtime_ms - Date.now()) < 120_000);
  assert.equal(one.entries[1]!.symlink_target, "a.txt");
  const deep = await json<{ entries: Entry[] }>(await api("GET", F("list", q("/root/ls", "&depth=3"))));
  assert.ok(deep.entries.some((e) => e.path === "/root/ls/sub/deeper/z"));
});

test("stat, mkdir (parents), move and remove (recursive) do what they say", async () => {
  const st = await json<Entry>(await api("GET", F("stat", q("/root"))));
  assert.equal(st.type, "dir");
  const made = await json<Entry>(await api("POST", F("mkdir"), { path: "/root/m/n/o", parents: true }));
  assert.deepEqual([made.path, made.type], ["/root/m/n/o", "dir"]);
  let res = await api("POST", F("mkdir"), { path: "/root/m/n/o" });
  assert.equal((await json<{ code: string }>(res, 409)).code, "file_exists");
  res = await api("POST", F("mkdir"), { path: "/root/nope/x" });
  assert.equal((await json<{ code: string }>(res, 404)).code, "file_not_found");
  await bash(id, "echo hi > /root/m/f");
  const moved = await json<Entry>(await api("POST", F("move"), { path: "/root/m/f", to: "/root/m/n/g" }));
  assert.deepEqual([moved.path, moved.size], ["/root/m/n/g", 3]);
  assert.equal((await api("GET", F("stat", q("/root/m/f")))).status, 404);
  res = await api("POST", F("remove"), { path: "/root/m" });
  assert.equal((await json<{ code: string }>(res, 409)).code, "directory_not_empty");
  await json(await api("POST", F("remove"), { path: "/root/m", recursive: true }), 204);
  assert.equal((await api("GET", F("stat", q("/root/m")))).status, 404);
});

test("bad paths and wrong ids are clear 4xx answers with codes", async () => {
  const cases: [string, string, unknown, number, string][] = [
    ["GET", F("stat"), undefined, 400, "invalid_path"],
    ["GET", F("stat", q("/root/\0x")), undefined, 400, "invalid_path"],
    ["GET", F("list", q("/etc/hostname")), undefined, 409, "not_a_directory"],
    ["GET", F("list", q("/root", "&depth=0")), undefined, 400, "bad_request"],
    ["POST", F("move"), { path: "/root/none", to: "/root/x" }, 404, "file_not_found"],
    ["POST", F("move"), { path: "/root" }, 400, "invalid_path"],
    ["POST", F("remove"), { path: "/" }, 400, "invalid_path"],
    ["GET", F("watch", q("/root/none")), undefined, 404, "file_not_found"],
    ["GET", `/v1/sandboxes/sbx_${"0".repeat(32)}/fs/stat?path=/`, undefined, 404, "sandbox_not_found"],
  ];
  for (const [method, path, body, status, code] of cases) {
    const res = await api(method, path, body);
    const j = await json<{ code: string; error: string }>(res, status);
    assert.equal(j.code, code, `${method} ${path}`);
  }
});

test("watch: create, write and remove arrive in order; recursive sees subdirectories", async () => {
  await bash(id, "mkdir -p /root/w/sub");
  const s = await openNdjson<Ev>(F("watch", q("/root/w", "&recursive=true")));
  assert.equal(s.status, 200);
  await s.waitFor((e) => e.type === "watching", "the watch to be in place");
  await bash(id, "echo one > /root/w/f && echo two >> /root/w/f && rm /root/w/f && touch /root/w/sub/deep");
  await s.waitFor((e) => e.type === "create" && e.name === "sub/deep", "create in a subdirectory");
  const mine = s.events.filter((e) => e.name === "f").map((e) => e.type);
  const firstOf = (t: string) => mine.indexOf(t);
  assert.ok(firstOf("create") !== -1 && firstOf("create") < firstOf("write") && firstOf("write") < firstOf("remove"), mine.join(","));
  // An upload lands through a temporary file renamed into place: only the final name is shown.
  assert.equal((await api("PUT", `/v1/sandboxes/${id}/files?path=/root/w/up.txt`, new TextEncoder().encode("up"))).status, 204);
  await s.waitFor((e) => e.name === "up.txt", "the uploaded file's event");
  assert.deepEqual(s.events.filter((e) => String(e.name).includes(".pf-upload")), [], "the upload's temporary file is not reported");
  s.close();
});

test("a listing over the entry cap is 413 too_many_entries; a smaller depth answers", async () => {
  await bash(id, "mkdir -p /root/many/d && cd /root/many/d && seq 1 10001 | xargs touch");
  const res = await api("GET", F("list", q("/root/many", "&depth=2")));
  const body = await json<{ code: string; error: string }>(res, 413);
  assert.equal(body.code, "too_many_entries");
  assert.match(body.error, /subdirectory or a smaller depth/);
  const one = await json<{ entries: Entry[] }>(await api("GET", F("list", q("/root/many"))));
  assert.deepEqual(one.entries.map((e) => e.name), ["d"]);
  await bash(id, "rm -rf /root/many");
});
