import assert from "node:assert/strict";
import { test } from "node:test";
import { MultipartReader, boundaryOf } from "./multipart.js";

async function* chunks(data: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}

async function readAll(reader: MultipartReader): Promise<{ name?: string; filename?: string; body: Buffer }[]> {
  const parts = [];
  for (let p = await reader.next(); p; p = await reader.next()) {
    const bufs: Buffer[] = [];
    for await (const c of p.body) bufs.push(c as Buffer);
    parts.push({ name: p.name, filename: p.filename, body: Buffer.concat(bufs) });
  }
  return parts;
}

test("the form FormData/undici sends is read part by part, whatever the chunk size", async () => {
  const form = new FormData();
  const bin = Buffer.from([0, 13, 10, 45, 45, 255, 13, 10]);
  form.append("file", new Blob(["hello\r\n--not a boundary"]), "/root/a.txt");
  form.append("file", new Blob([bin]), 'dir/we"ird.bin');
  const res = new Response(form);
  const boundary = boundaryOf(res.headers.get("content-type") ?? undefined);
  assert.ok(boundary);
  const body = Buffer.from(await res.arrayBuffer());
  for (const size of [1, 3, 7, 64, body.length]) {
    const parts = await readAll(new MultipartReader(chunks(body, size), boundary));
    assert.deepEqual(
      parts.map((p) => [p.name, p.filename, p.body.toString("latin1")]),
      [
        ["file", "/root/a.txt", "hello\r\n--not a boundary"],
        ["file", 'dir/we"ird.bin', bin.toString("latin1")],
      ],
      `chunk size ${size}`,
    );
  }
});

test("a form cut short is a 400, not a hang or a partial file", async () => {
  const form = new FormData();
  form.append("file", new Blob(["x".repeat(100)]), "/a");
  const res = new Response(form);
  const boundary = boundaryOf(res.headers.get("content-type") ?? undefined)!;
  const body = Buffer.from(await res.arrayBuffer());
  await assert.rejects(readAll(new MultipartReader(chunks(body.subarray(0, 90), 10), boundary)), (e: Error & { status?: number }) => e.status === 400);
});

test("boundaryOf takes quoted and bare boundaries and refuses other types", () => {
  assert.equal(boundaryOf('multipart/form-data; boundary="a b"'), "a b");
  assert.equal(boundaryOf("multipart/form-data; charset=utf-8; boundary=xyz"), "xyz");
  assert.equal(boundaryOf("application/octet-stream"), null);
  assert.equal(boundaryOf(undefined), null);
});
