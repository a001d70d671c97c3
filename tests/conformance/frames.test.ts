// The three frame codecs speak the same bytes: packages/protocol/src/frames.ts (hostd), the
// guest's packages/guest/podflare_guest/frames.py and the jail's own in packages/hostd/jail/
// fork.py (host root, outside the sandbox, so it does not load guest code). The same frames
// go through each encoder, the bytes are compared, and each decoder reads the others' bytes.
// No hostd needed.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { test } from "node:test";
import { FILE_CHUNK_BYTES, FRAME_MAX_BYTES, FrameDecoder, GUEST_PROTOCOL_VERSION, encodeFrame } from "@podflare/protocol";
import { repoRoot } from "./support.js";

interface Case {
  name: string;
  header: Record<string, unknown>;
  body: Buffer;
}

type Encoded = { bytes: string } | { error: string };
type Decoded = { header: unknown; body_sha256?: string }[] | { error: string };
interface PyResult {
  guest: Encoded;
  fork: Encoded | null;
  guest_decoded: Decoded | null;
  fork_decoded: Decoded | null;
}

const pattern = (n: number): Buffer => Buffer.from(Array.from({ length: n }, (_, i) => (i * 31 + 7) % 256));

/** A frame whose total length (after the u32 length itself) is exactly `total`. */
function sized(name: string, total: number): Case {
  const header = { t: "data", id: 1 };
  return { name, header, body: Buffer.alloc(total - 4 - JSON.stringify(header).length, 0x61) };
}

const cases: Case[] = [
  { name: "empty body", header: { t: "ping", id: 0 }, body: Buffer.alloc(0) },
  { name: "exec", header: { t: "exec", id: 12, lang: "python", code: "print('hi')\nx = {\"a\": [1, 2]}\n", env: { A: "1" }, cwd: "/root" }, body: Buffer.alloc(0) },
  { name: "body over 64 KiB", header: { t: "out", id: 3, fd: 1 }, body: pattern(200_000) },
  { name: "every byte value", header: { t: "write_chunk", id: 4 }, body: Buffer.from(Array.from({ length: 256 }, (_, i) => i)) },
  { name: "unicode header", header: { t: "read", id: 5, path: "/tmp/h\u00e9llo \u2713 \u{1F600} \u4e2d\u6587" }, body: Buffer.alloc(0) },
  { name: "unicode header and body", header: { t: "out", id: 6, fd: 2 }, body: Buffer.from("caf\u00e9 \u{1F600}\n", "utf8") },
  // Undecodable bytes in a file name reach the guest's JSON as lone surrogates (surrogateescape).
  { name: "lone surrogate", header: { t: "dir", id: 7, entries: [{ name: "bad\udcff", type: "file", size: 0, mode: 33188, mtime_ms: 0 }] }, body: Buffer.alloc(0) },
  { name: "escapes and control characters", header: { t: "read", id: 8, path: "/a\"b\\c\n\t\b\f\r\u0000\u001f\u007f/" }, body: Buffer.alloc(0) },
  { name: "max header values", header: { t: "file", id: Number.MAX_SAFE_INTEGER, kind: "file", size: 2 ** 32 - 1, mode: 0o177777 }, body: Buffer.alloc(0) },
  { name: "negative and zero", header: { t: "exit", id: 0, code: -2147483648 }, body: Buffer.alloc(0) },
  { name: "fork as fork.py sends it", header: { t: "fork", id: 1, children: ["sbx_" + "a".repeat(32)], files: { "3": "/tmp/log" }, fresh: true }, body: Buffer.alloc(0) },
  sized("exactly FRAME_MAX_BYTES", FRAME_MAX_BYTES),
  sized("one byte over FRAME_MAX_BYTES", FRAME_MAX_BYTES + 1),
];

const tsBytes = new Map<string, Buffer>();
const tsErrors = new Map<string, string>();
for (const c of cases) {
  try {
    tsBytes.set(c.name, encodeFrame(c.header, c.body));
  } catch (err) {
    tsErrors.set(c.name, String(err));
  }
}

const py: Record<string, PyResult> & { _constants?: Record<string, number> } = (() => {
  const input = JSON.stringify({
    cases: cases.map((c) => ({ name: c.name, header: c.header, body: c.body.toString("base64") })),
    ts: Object.fromEntries([...tsBytes].map(([name, b]) => [name, b.toString("base64")])),
  });
  const r = spawnSync("/usr/bin/python3", [join(repoRoot, "tests/conformance/frames_codecs.py"), repoRoot], {
    input,
    encoding: "utf8",
    maxBuffer: 256 * 1024 * 1024,
    env: { ...process.env, PYTHONDONTWRITEBYTECODE: "1" },
  });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as Record<string, PyResult>;
})();

const sha = (b: Buffer): string => createHash("sha256").update(b).digest("hex");
const bytesOf = (e: Encoded | null, who: string): Buffer => {
  assert.ok(e && "bytes" in e, `${who} refused: ${JSON.stringify(e)}`);
  return Buffer.from(e.bytes, "base64");
};
/** JSON as Python's json.dumps(ensure_ascii=True) writes it: DEL and every non-ASCII unit as \uXXXX. */
const asciiJson = (v: unknown): string => JSON.stringify(v).replace(/[\u007f-\uffff]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, "0")}`);
const isAscii = (s: string): boolean => /^[\x00-\x7e]*$/.test(s);

function tsDecode(bytes: Buffer): { header: unknown; body: Buffer } {
  const frames = new FrameDecoder().push(bytes);
  assert.equal(frames.length, 1);
  return frames[0]!;
}

for (const c of cases.filter((c) => tsBytes.has(c.name))) {
  test(`frames conform: ${c.name}`, () => {
    const ts = tsBytes.get(c.name)!;
    const r = py[c.name]!;
    const guest = bytesOf(r.guest, "the guest's encode");

    // The bytes: equal wherever the header's JSON is ASCII (DEL aside). Otherwise the Python
    // codecs escape (\uXXXX) what JSON.stringify writes as UTF-8: the same JSON value either way.
    if (isAscii(JSON.stringify(c.header))) {
      assert.ok(guest.equals(ts), `guest bytes differ from TypeScript's (sha ${sha(guest)} vs ${sha(ts)})`);
    } else {
      const head = asciiJson(c.header);
      assert.equal(guest.readUInt32BE(0), 4 + head.length + c.body.length);
      assert.equal(guest.readUInt32BE(4), head.length, "the guest's header is the ASCII-escaped JSON");
      assert.equal(guest.subarray(8, 8 + head.length).toString("ascii"), head);
      assert.ok(guest.subarray(8 + head.length).equals(c.body));
    }
    if (r.fork !== null) assert.ok(bytesOf(r.fork, "fork.py's encode").equals(guest), "fork.py's bytes differ from the guest's");

    // Each decoder reads the others' bytes back to the same frame.
    const fromGuest = tsDecode(guest);
    assert.deepEqual(fromGuest.header, c.header);
    assert.ok(fromGuest.body.equals(c.body));
    if (r.fork !== null) assert.deepEqual(tsDecode(bytesOf(r.fork, "fork.py's encode")).header, c.header);
    assert.deepEqual(r.guest_decoded, [{ header: c.header, body_sha256: sha(c.body) }], "the guest decoding TypeScript's bytes");
    assert.deepEqual(r.fork_decoded, [c.header], "fork.py decoding TypeScript's bytes");
  });
}

test("frames conform: every encoder refuses a frame over FRAME_MAX_BYTES", () => {
  const over = "one byte over FRAME_MAX_BYTES";
  assert.match(tsErrors.get(over) ?? "", /exceeds/);
  assert.match(JSON.stringify(py[over]!.guest), /ValueError: frame of \d+ bytes exceeds/);
});

test("frames conform: the codecs share FRAME_MAX_BYTES, FILE_CHUNK_BYTES and the protocol version", () => {
  assert.deepEqual(py._constants, {
    guest_max: FRAME_MAX_BYTES,
    fork_max: FRAME_MAX_BYTES,
    guest_chunk: FILE_CHUNK_BYTES,
    guest_version: GUEST_PROTOCOL_VERSION,
  });
});
