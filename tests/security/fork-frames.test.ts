// jail/fork.py runs as host root and reads frames from the parent sandbox's guest kernel, which
// runs the tenant's code and may answer anything. A frame declaring more than FRAME_MAX_BYTES
// (or a header longer than its frame) is refused at its first 8 bytes, before fork.py buffers
// the body, as hostd's and the guest's decoders do (tests/conformance/frames.test.ts).
// The attack drives fork.py's own FrameReader over a real socket pair; no hostd needed.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

// Compiled into tests/dist/security/: the repository is three levels up.
const jailDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../packages/hostd/jail");

// The hostile kernel: a length prefix, then up to 32 MiB of body sent as fast as fork.py reads.
const ATTACK = `
import json, socket, sys, threading
sys.path.insert(0, sys.argv[1])
import fork
total, head_len = int(sys.argv[2]), int(sys.argv[3])
a, b = socket.socketpair()
def hostile():
    try:
        a.sendall(total.to_bytes(4, "big") + head_len.to_bytes(4, "big"))
        for _ in range(512):
            a.sendall(b"x" * 65536)
    except OSError:
        pass
    finally:
        a.close()
t = threading.Thread(target=hostile, daemon=True)
t.start()
b.settimeout(20)
reader = fork.FrameReader(b)
try:
    reader.next()
    outcome = {"error": None}
except Exception as e:
    outcome = {"error": f"{type(e).__name__}: {e}"}
outcome["buffered"] = len(reader.buf)
b.close()
t.join()
print(json.dumps(outcome))
`;

function attack(total: number, headLen: number): { error: string | null; buffered: number } {
  const r = spawnSync("/usr/bin/python3", ["-c", ATTACK, jailDir, String(total), String(headLen)], {
    encoding: "utf8",
    env: { ...process.env, PYTHONDONTWRITEBYTECODE: "1" },
  });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as { error: string | null; buffered: number };
}

test("fork.py refuses a frame from the parent's kernel that declares more than FRAME_MAX_BYTES, before buffering it", () => {
  const out = attack(64 * 1024 * 1024, 16);
  assert.match(out.error ?? "", /^ForkError: .*frame length 67108864/);
  assert.ok(out.buffered <= 65536 + 8, `fork.py buffered ${out.buffered} bytes of the oversize frame`);
});

test("fork.py refuses a frame whose header length is longer than the frame", () => {
  const out = attack(100, 4000);
  assert.match(out.error ?? "", /^ForkError: .*header length 4000/);
});
