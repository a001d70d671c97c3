// Compiled bytecode of the guest kernel for a template's Python. The guest dir is mounted
// read-only in every sandbox, so without it each kernel start recompiles every module
// (~15 ms of CPU per create). Only the template's own interpreter can compile for its version,
// so the compile runs in a throw-away sandbox of that template (our script only, nothing of a
// user's), which prints the bytecode; hostd writes it to the guest dir's __pycache__, where
// Python finds it and checks it against each source's mtime and size.
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { launchSandbox, runInSandbox, type CgroupManager } from "../../jail/index.js";
import type { StoragePool } from "../../storage/index.js";

const PACKAGE = "podflare_guest";
const COMPILE_LIMITS = { memoryMb: 256, vcpus: 1, pidsMax: 32 };

// Runs inside the sandbox: compile every module of the package as Python's importer would
// cache it (timestamp-based pyc) and print {tag, files: {name: base64}}.
const COMPILE_SCRIPT = `
import base64, importlib.util, json, os, sys
from importlib._bootstrap_external import _code_to_timestamp_pyc
src = "/.podflare/guest/${PACKAGE}"
out = {}
for name in sorted(os.listdir(src)):
    if not name.endswith(".py"):
        continue
    p = os.path.join(src, name)
    st = os.stat(p)
    with open(p, "rb") as f:
        code = compile(f.read(), p, "exec", dont_inherit=True)
    data = _code_to_timestamp_pyc(code, int(st.st_mtime), st.st_size)
    out[name[:-3]] = base64.b64encode(bytes(data)).decode()
print(json.dumps({"tag": sys.implementation.cache_tag, "files": out}))
`;

export interface GuestBytecodeOptions {
  guestDir: string;
  storage: StoragePool;
  cgroups: CgroupManager;
  uidBase: number;
  uidCount: number;
  newId: () => string;
}

/** Compiles the guest package with the template's Python into guestDir/podflare_guest/__pycache__. */
export async function compileGuestFor(template: string, opts: GuestBytecodeOptions): Promise<{ tag: string; modules: number }> {
  const { storage, cgroups } = opts;
  const id = opts.newId();
  const familyId = `fam_${crypto.randomBytes(8).toString("hex")}`;
  try {
    const rootfs = await storage.createSandboxRoot(template, id);
    cgroups.create(id, COMPILE_LIMITS);
    cgroups.create(familyId, COMPILE_LIMITS);
    const init = await launchSandbox({
      id,
      rootfs,
      guestDir: opts.guestDir,
      uidBase: opts.uidBase,
      uidCount: opts.uidCount,
      cgroupProcs: cgroups.procsFiles(id),
      familyCgroupProcs: cgroups.procsFiles(familyId),
    });
    const r = await runInSandbox(
      { initPid: init.initPid, initStartTime: init.initStartTime, cgroupProcs: cgroups.procsFiles(id), env: { PATH: "/usr/bin:/bin", LANG: "C.UTF-8" } },
      ["/usr/bin/python3", "-I", "-c", COMPILE_SCRIPT],
      { timeoutMs: 30_000 },
    );
    if (r.code !== 0) throw new Error(`compile exited ${r.code}: ${r.stderr.trim().slice(-300)}`);
    const { tag, files } = JSON.parse(r.stdout) as { tag: unknown; files: Record<string, unknown> };
    if (typeof tag !== "string" || !/^[a-z]+-\d+$/.test(tag)) throw new Error(`bad cache tag ${String(tag)}`);
    const cacheDir = path.join(opts.guestDir, PACKAGE, "__pycache__");
    fs.mkdirSync(cacheDir, { recursive: true, mode: 0o755 });
    let modules = 0;
    for (const [name, b64] of Object.entries(files)) {
      // Only names of the package's own sources: nothing the output says can point elsewhere.
      if (!/^[a-z_][a-z0-9_]*$/.test(name) || typeof b64 !== "string") continue;
      if (!fs.existsSync(path.join(opts.guestDir, PACKAGE, `${name}.py`))) continue;
      const dst = path.join(cacheDir, `${name}.${tag}.pyc`);
      const tmp = `${dst}.${process.pid}.tmp`;
      fs.writeFileSync(tmp, Buffer.from(b64, "base64"), { mode: 0o644 });
      fs.renameSync(tmp, dst); // atomic: a kernel starting meanwhile reads the old or the new file
      modules++;
    }
    return { tag, modules };
  } finally {
    await cgroups.killAll(id);
    await cgroups.remove(id);
    await cgroups.killAll(familyId);
    await cgroups.remove(familyId);
    await storage.deleteSandboxRoot(id);
  }
}
