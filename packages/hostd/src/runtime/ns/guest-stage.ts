// The guest package as sandboxes mount it: a copy in the storage pool, not the checkout. Field 4
// of /proc/self/mountinfo names a bind mount's source by its path inside its filesystem, so a
// bind of the checkout would show it (`/work/.../packages/guest`) to every sandbox; a copy on
// the pool (btrfs) shows `/guest/<hash>`. One directory per content hash, never rewritten in
// place: running sandboxes keep the copy they mounted, and a new hostd start reuses it.
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";

const SKIP = new Set(["__pycache__", "tests"]);

function files(dir: string, rel = ""): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    if (SKIP.has(e.name)) continue;
    const r = path.join(rel, e.name);
    if (e.isDirectory()) out.push(...files(dir, r));
    else if (e.isFile()) out.push(r);
  }
  return out;
}

/** Copies `src` (the guest package's folder) under `poolRoot`/guest; returns the copy's path. */
export function stageGuest(src: string, poolRoot: string): string {
  const list = files(src);
  const hash = crypto.createHash("sha256");
  for (const f of list) hash.update(f).update("\0").update(fs.readFileSync(path.join(src, f))).update("\0");
  const dst = path.join(poolRoot, "guest", hash.digest("hex").slice(0, 16));
  if (fs.existsSync(dst)) return dst;
  const tmp = `${dst}.${process.pid}.tmp`;
  fs.rmSync(tmp, { recursive: true, force: true });
  for (const f of list) {
    fs.mkdirSync(path.dirname(path.join(tmp, f)), { recursive: true, mode: 0o755 });
    // Timestamps kept: the compiled bytecode (guest-bytecode.ts) is checked against them.
    fs.copyFileSync(path.join(src, f), path.join(tmp, f));
    const st = fs.statSync(path.join(src, f));
    fs.chmodSync(path.join(tmp, f), st.mode & 0o755);
    fs.utimesSync(path.join(tmp, f), st.atime, st.mtime);
  }
  fs.chmodSync(tmp, 0o755);
  fs.chmodSync(path.dirname(dst), 0o755);
  fs.renameSync(tmp, dst);
  return dst;
}
