// Files in and out through PUT/GET/DELETE /v1/sandboxes/:id/files.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import crypto from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import { SandboxPool, api, bash, exec, hostdUrl } from "../support/api.js";
import { eventually } from "../support/host.js";

const pool = new SandboxPool();
let id: string;
const files = (path: string) => `/v1/sandboxes/${id}/files?path=${encodeURIComponent(path)}`;
const tempFiles = async () => Number((await bash(id, "ls -a /root | grep -c pf-upload || true")).stdout.trim());

before(async () => {
  id = await pool.create();
});
after(() => pool.closeAll());

test("10 MB of random bytes go up and come back identical; parents are created", async () => {
  const data = crypto.randomBytes(10 * 1024 * 1024);
  const put = await api("PUT", files("/root/deep/er/blob.bin"), new Uint8Array(data));
  assert.equal(put.status, 204, await put.text());
  const got = await api("GET", files("/root/deep/er/blob.bin"));
  assert.equal(got.status, 200);
  assert.equal(got.headers.get("content-length"), String(data.length));
  assert.ok(Buffer.from(await got.arrayBuffer()).equals(data), "downloaded bytes differ");
  const sum = await exec(id, "import hashlib; print(hashlib.sha256(open('/root/deep/er/blob.bin','rb').read()).hexdigest())");
  assert.equal(sum.stdout.trim(), crypto.createHash("sha256").update(data).digest("hex"));
});

test("a directory gives a JSON listing", async () => {
  await api("PUT", files("/root/listing/a.txt"), "aa");
  await bash(id, "mkdir -p /root/listing/sub && ln -sf a.txt /root/listing/link");
  const res = await api("GET", files("/root/listing"));
  assert.equal(res.headers.get("content-type"), "application/json");
  const body = (await res.json()) as { entries: { name: string; type: string; size: number }[] };
  assert.deepEqual(
    body.entries.map((e) => [e.name, e.type]),
    [["a.txt", "file"], ["link", "symlink"], ["sub", "dir"]],
  );
  assert.equal(body.entries[0]!.size, 2);
});

test("missing file → 404 file_not_found; writing onto a directory → 409; missing path → 400", async () => {
  let res = await api("GET", files("/root/does-not-exist"));
  assert.equal(res.status, 404);
  assert.equal(((await res.json()) as { code: string }).code, "file_not_found");
  res = await api("PUT", files("/root/listing"), "x");
  assert.equal(res.status, 409);
  assert.equal(((await res.json()) as { code: string }).code, "is_a_directory");
  res = await api("GET", `/v1/sandboxes/${id}/files`);
  assert.equal(res.status, 400);
  assert.equal(((await res.json()) as { code: string }).code, "invalid_path");
});

test("delete removes a file and a tree", async () => {
  await api("PUT", files("/root/gone/x/y.txt"), "y");
  assert.equal((await api("DELETE", files("/root/gone"))).status, 204);
  assert.equal((await api("GET", files("/root/gone"))).status, 404);
});

test("`..` and symlinks never reach a host file", async () => {
  const marker = `/tmp/podflare-host-marker-${crypto.randomBytes(4).toString("hex")}`;
  fs.writeFileSync(marker, "HOST SECRET");
  try {
    for (const p of [`/../../../..${marker}`, `../../../../..${marker}`, marker]) {
      const res = await api("GET", files(p));
      assert.equal(res.status, 404, `${p} must not find the host file`);
      await res.arrayBuffer();
    }
    // A symlink planted inside the sandbox resolves inside the sandbox.
    await bash(id, `ln -sfn / /root/escape; ln -sfn ${marker} /root/marker-link`);
    for (const p of [`/root/escape${marker}`, "/root/marker-link"]) {
      const res = await api("GET", files(p));
      assert.equal(res.status, 404, `${p} followed a symlink out of the sandbox`);
      await res.arrayBuffer();
    }
    // Writing through a symlink also stays inside.
    await bash(id, "ln -sfn /etc /root/etc-link");
    await api("PUT", files("/root/etc-link/podflare-written"), "inside");
    assert.equal((await bash(id, "cat /etc/podflare-written")).stdout, "inside");
    assert.ok(!fs.existsSync("/etc/podflare-written"), "the write reached the host's /etc");
    assert.equal(fs.readFileSync(marker, "utf8"), "HOST SECRET");
  } finally {
    fs.rmSync(marker, { force: true });
  }
});

test("an upload declared over the limit is refused with 413 before any byte is written", async () => {
  const url = new URL(hostdUrl() + files("/root/huge.bin"));
  const status = await new Promise<number>((resolve, reject) => {
    const req = http.request(url, { method: "PUT", headers: { "content-length": String(4 * 1024 ** 3) } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
      req.destroy();
    });
    req.on("error", reject);
    req.write(Buffer.alloc(1024));
  });
  assert.equal(status, 413);
  assert.equal((await api("GET", files("/root/huge.bin"))).status, 404);
});

test("an interrupted upload leaves the previous file untouched", async () => {
  await api("PUT", files("/root/precious.txt"), "original");
  const url = new URL(hostdUrl() + files("/root/precious.txt"));
  await new Promise<void>((resolve) => {
    const req = http.request(url, { method: "PUT", headers: { "content-length": String(10 * 1024 * 1024) } });
    req.on("error", () => resolve());
    // Broken off once the guest holds a temp file of it: the upload is in flight.
    req.write(Buffer.alloc(2 * 1024 * 1024, 120), () => {
      void eventually(async () => (await tempFiles()) > 0, "the upload never reached the guest", 10_000)
        .finally(() => {
          req.destroy();
          resolve();
        });
    });
  });
  await eventually(async () => (await tempFiles()) === 0, "a temp file of the failed upload was left behind", 10_000);
  const res = await api("GET", files("/root/precious.txt"));
  assert.equal(await res.text(), "original");
  const tmp = await bash(id, "ls -a /root | grep -c pf-upload || true");
  assert.equal(tmp.stdout.trim(), "0", "a temp file of the failed upload was left behind");
});

test("a directory too big to list in one answer is 413 too_many_entries, not 500 (outside tester: 150,000 entries)", async () => {
  const made = await bash(id, "mkdir -p /root/many && cd /root/many && seq 150000 | xargs touch && ls | wc -l", { timeout_ms: 120_000 });
  assert.equal(made.stdout.trim(), "150000", made.stderr);
  const res = await api("GET", files("/root/many"));
  const body = (await res.json()) as { code: string; error: string };
  assert.equal(res.status, 413, body.error);
  assert.equal(body.code, "too_many_entries");
  assert.match(body.error, /150000 entries do not fit in one answer; list a subdirectory/);
  await bash(id, "rm -rf /root/many", { timeout_ms: 120_000 });
});
