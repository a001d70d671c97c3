// Template build through the real code path (mmdebstrap, cached in PODFLARE_TEMPLATE_CACHE,
// default /var/cache/podflare-templates so runs share it), extraction and uid shift.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, lstatSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { createStoragePool, createTemplateManager, ensureDebianPackages, type StoragePool, type TemplateManagerType, type TemplateProgress } from "./storage.js";
import { cleanupStateDir, makeStateDir, newSandboxId, requireRoot } from "./helpers.js";

process.env.PODFLARE_TEMPLATE_CACHE ||= "/var/cache/podflare-templates";

/** Entries of a tree, not following symlinks or crossing into other filesystems. */
function* walk(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    yield p;
    if (lstatSync(p).isDirectory()) yield* walk(p);
  }
}

describe("templates", () => {
  let stateDir = "";
  let pool: StoragePool;
  let templates: TemplateManagerType;
  const events: TemplateProgress[] = [];

  before(async () => {
    requireRoot();
    stateDir = makeStateDir();
    pool = await createStoragePool({ stateDir, driver: "btrfs", poolSizeGb: 4, log: () => {} });
    templates = createTemplateManager({ pool, log: (m) => console.log(`# ${m}`) });
  });

  after(async () => {
    if (!stateDir) return;
    try {
      await pool?.teardown({ force: true });
    } finally {
      cleanupStateDir(stateDir);
    }
  });

  test("ensureTemplate('default') builds a rootfs owned by the mapped range, with progress", async () => {
    const t = Date.now();
    const info = await templates.ensureTemplate("default", { onProgress: (e) => events.push(e) });
    console.log(`# ensureTemplate(default): ${((Date.now() - t) / 1000).toFixed(1)} s`);
    assert.equal(info.ready, true);
    const phases = new Set(events.map((e) => e.phase));
    for (const p of ["unpacking", "shifting", "finishing", "done"]) assert.ok(phases.has(p as never), `phase ${p} reported`);
    const shifting = events.filter((e) => e.phase === "shifting").pop();
    assert.ok(shifting?.total && shifting.done === shifting.total, "shifting counts up to its total");

    const root = pool.templatePath("default");
    assert.ok(statSync(join(root, "usr/bin/python3")).isFile());
    for (const p of [root, join(root, "etc/passwd"), join(root, "usr/bin/python3"), join(root, "root")]) {
      const st = lstatSync(p);
      assert.equal(st.uid, 100000, `${p} owned by the mapped root`);
      assert.equal(st.gid, 100000, `${p} group is the mapped root`);
    }
    let lowest = Infinity;
    let devices = 0;
    for (const p of walk(root)) {
      const st = lstatSync(p);
      lowest = Math.min(lowest, st.uid, st.gid);
      if (st.isCharacterDevice() || st.isBlockDevice()) devices++;
    }
    assert.ok(lowest >= 100000 && lowest < 100000 + 65536, `lowest owner ${lowest}`);
    assert.equal(devices, 0, "no device nodes: the jail provides /dev");

    // Setuid/setgid bits that lchown cleared are back (the Debian tarball has several).
    const passwd = join(root, "usr/bin/passwd");
    if (existsSync(passwd)) assert.equal(statSync(passwd).mode & 0o4000, 0o4000, "passwd keeps setuid");
    const chage = join(root, "usr/bin/chage");
    if (existsSync(chage)) {
      assert.equal(statSync(chage).mode & 0o2000, 0o2000, "chage keeps setgid");
      assert.equal(statSync(chage).gid, 100000 + 42, "chage group shadow(42) shifted");
    }

    assert.ok(statSync(join(root, ".podflare")).isDirectory());
    assert.equal(statSync(join(root, "tmp")).mode & 0o7777, 0o1777);
    assert.equal(statSync(join(root, "root")).mode & 0o777, 0o700);
    assert.match(readFileSync(join(root, "etc/hosts"), "utf8"), /^127\.0\.0\.1\tlocalhost$/m);
    assert.equal(readFileSync(join(root, "etc/resolv.conf"), "utf8"), "");
    assert.equal(readFileSync(join(root, "etc/hostname"), "utf8"), "sandbox\n", "not the build host's name");

    const manifest = JSON.parse(readFileSync(pool.templateManifestPath("default"), "utf8"));
    assert.equal(manifest.name, "default");
    assert.equal(manifest.suite, "trixie");
    assert.equal(manifest.uidBase, 100000);
    assert.match(manifest.specHash, /^[0-9a-f]{16}$/);
    assert.ok(manifest.sizeBytes > 50e6, `size ${manifest.sizeBytes}`);
    assert.ok(manifest.packages.includes("python3"));
    assert.ok(!Number.isNaN(Date.parse(manifest.builtAt)));
    console.log(`# default template: ${(manifest.sizeBytes / 1e6).toFixed(0)} MB, timings ${JSON.stringify(manifest.timingsMs)}`);
    assert.ok(existsSync(manifest.tarball), "the tarball stays cached");
  });

  test("the rootfs runs its own Python 3.13", () => {
    // Host root may chroot; this checks the tree is complete, not the jail.
    const r = spawnSync("chroot", [pool.templatePath("default"), "/usr/bin/python3", "-c", "import sys; print(sys.version_info[:2])"], {
      encoding: "utf8",
    });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), "(3, 13)");
  });

  test("listTemplates shows default ready and python-datasci as a known template", async () => {
    const list = await templates.listTemplates();
    const def = list.find((t) => t.name === "default");
    assert.ok(def);
    assert.equal(def.ready, true);
    assert.equal(def.stale, false);
    assert.ok(def.sizeBytes && def.sizeBytes > 0);
    assert.ok(def.builtAt);
    assert.ok(def.packages.includes("git"));
    const ds = list.find((t) => t.name === "python-datasci");
    assert.ok(ds);
    assert.ok(ds.packages.includes("python3-pandas") && ds.packages.includes("python3-sklearn"));
  });

  test("ensureTemplate on a current template does nothing", async () => {
    const before = (await templates.getTemplate("default")).builtAt;
    const t = Date.now();
    await templates.ensureTemplate("default");
    assert.ok(Date.now() - t < 1000);
    assert.equal((await templates.getTemplate("default")).builtAt, before);
  });

  test("a sandbox root from the real template is a writable snapshot", async () => {
    const id = newSandboxId();
    const root = await pool.createSandboxRoot("default", id);
    assert.ok(existsSync(join(root, "usr/bin/python3")));
    assert.equal(lstatSync(root).uid, 100000);
    await pool.deleteSandboxRoot(id);
  });

  test("two builds of the same template at once both succeed and leave one good template", async () => {
    const t = Date.now();
    const [a, b] = await Promise.all([templates.buildTemplate("default"), templates.buildTemplate("default")]);
    console.log(`# two concurrent rebuilds from the cached tarball: ${((Date.now() - t) / 1000).toFixed(1)} s`);
    assert.equal(a.ready, true);
    assert.equal(b.ready, true);
    assert.ok(statSync(join(pool.templatePath("default"), "usr/bin/python3")).isFile());
    const leftovers = readdirSync(join(pool.root, "templates")).filter((n) => n.startsWith("."));
    assert.deepEqual(leftovers, []);
    assert.deepEqual(await pool.listTemplateNames(), ["default"]);
  });

  test("an unknown template name is template_not_found", async () => {
    const notFound = { code: "template_not_found", message: /unknown template "nope"/ };
    await assert.rejects(templates.ensureTemplate("nope"), notFound);
    await assert.rejects(templates.buildTemplate("nope"), notFound);
    await assert.rejects(templates.getTemplate("nope"), notFound);
    await assert.rejects(templates.ensureTemplate("../etc"), { code: "template_not_found" });
    await assert.rejects(pool.createSandboxRoot("nope", newSandboxId()), { code: "template_not_found" });
  });

  test("ensureDebianPackages installs nothing when the packages are there, and checks names", async () => {
    assert.deepEqual(await ensureDebianPackages(["btrfs-progs", "mmdebstrap", "tar"]), []);
    await assert.rejects(ensureDebianPackages(["btrfs-progs; rm -rf /"]), /not a Debian package name/);
  });
});
