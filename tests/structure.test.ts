// The layout's rules, checked on every `npm test` (no hostd needed): no import cycle between
// source modules (TypeScript under packages/*/src, and the three Python trees), and no source
// file over 400 lines unless its opening comment says why ("Over 400 lines because ...").
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

// Compiled into tests/dist/: the repository is two levels up.
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const MAX_LINES = 400;

/**
 * Files over 400 lines that other branches are splitting now (issue 15). The integrator empties
 * this list after merging them; an entry that is no longer over the limit fails the test, so the
 * list cannot go stale. Never add to it: split the file, or state why it is long.
 */
const KNOWN_UNTIL_SPLIT: readonly string[] = [
  "packages/hostd/src/jail/cgroups.ts",
  "packages/hostd/src/lifecycle/sandbox-manager.ts",
  "packages/hostd/src/network/network-service.ts",
];

/**
 * Cycles through files other branches are splitting now (issue 15), as findCycles reports them.
 * The integrator empties this list after merging; an entry no longer found fails the test.
 * Never add to it: break the cycle.
 */
const KNOWN_CYCLES_UNTIL_SPLIT: readonly string[] = [
];

const PYTHON_TREES = ["packages/guest/podflare_guest", "packages/hostd/jail", "packages/sdk-python/podflare"];

const rel = (p: string): string => path.relative(root, p).split(path.sep).join("/");

function walk(dir: string, keep: (file: string) => boolean, out: string[] = []): string[] {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (!["node_modules", "dist", "__pycache__", "tests"].includes(e.name)) walk(p, keep, out);
    } else if (keep(p)) out.push(p);
  }
  return out;
}

const packageDirs = (): string[] =>
  fs.readdirSync(path.join(root, "packages"), { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => path.join(root, "packages", e.name));

// ---- import graphs

type Graph = Map<string, Set<string>>;

/** Relative specifiers of a TypeScript file's static imports and re-exports, and of import("..."). */
export function tsImports(source: string): string[] {
  const specs: string[] = [];
  const patterns = [
    /^\s*(?:import|export)\b[^;]*?\bfrom\s*["']([^"']+)["']/gm,
    /^\s*import\s*["']([^"']+)["']/gm,
    /\bimport\(\s*["']([^"']+)["']\s*\)/g,
  ];
  for (const re of patterns) for (const m of source.matchAll(re)) specs.push(m[1]!);
  return specs.filter((s) => s.startsWith("."));
}

function resolveTs(from: string, spec: string): string | undefined {
  const base = path.resolve(path.dirname(from), spec);
  const candidates = [base.replace(/\.js$/, ".ts"), `${base}.ts`, path.join(base, "index.ts")];
  return candidates.find((c) => c.endsWith(".ts") && fs.existsSync(c) && fs.statSync(c).isFile());
}

function tsGraph(): Graph {
  const g: Graph = new Map();
  for (const pkg of packageDirs()) {
    const src = path.join(pkg, "src");
    if (!fs.existsSync(src)) continue;
    for (const file of walk(src, (f) => f.endsWith(".ts") && !f.endsWith(".d.ts"))) {
      const deps = new Set<string>();
      for (const spec of tsImports(fs.readFileSync(file, "utf8"))) {
        const to = resolveTs(file, spec);
        if (to) deps.add(rel(to));
      }
      g.set(rel(file), deps);
    }
  }
  return g;
}

/** Sibling modules a Python file imports: `import x`, `from .x import`, `from . import x`, `from <pkg>.x import`. */
export function pyImports(source: string, pkg: string, modules: ReadonlySet<string>): string[] {
  const out: string[] = [];
  const mod = (name: string): void => {
    if (modules.has(name)) out.push(name);
  };
  // Docstrings and other triple-quoted strings hold examples ("from podflare import Sandbox"), not imports.
  const code = source.replace(/"""[\s\S]*?"""|'''[\s\S]*?'''/g, "");
  for (const line of code.split("\n")) {
    let m = /^\s*import\s+(.+)$/.exec(line);
    if (m) {
      for (const part of m[1]!.split("#")[0]!.split(",")) {
        const names = part.trim().split(/\s+/)[0]!.split(".");
        if (names[0] === pkg) mod(names[1] ?? "__init__");
        else mod(names[0]!);
      }
      continue;
    }
    m = /^\s*from\s+(\.+|[\w.]+)\s*(\.?[\w.]*)\s+import\s+(.*)$/.exec(line);
    if (!m) continue;
    const target = (m[1]! + m[2]!).trim();
    const relative = target.startsWith(".") ? target.replace(/^\.+/, "") : target === pkg ? "" : target.startsWith(`${pkg}.`) ? target.slice(pkg.length + 1) : undefined;
    if (relative === undefined) continue;
    if (relative === "") {
      // `from . import a, b`: each name that is a module, else the package's __init__.
      const names = m[3]!.replace(/[()#].*$/, "").split(",").map((n) => n.trim().split(/\s+/)[0]!).filter(Boolean);
      const found = names.filter((n) => modules.has(n));
      if (found.length) found.forEach(mod);
      else mod("__init__");
    } else mod(relative.split(".")[0]!);
  }
  return out;
}

function pyGraph(): Graph {
  const g: Graph = new Map();
  for (const tree of PYTHON_TREES) {
    const dir = path.join(root, tree);
    const files = fs.readdirSync(dir).filter((f) => f.endsWith(".py"));
    const modules = new Set(files.map((f) => f.slice(0, -3)));
    for (const f of files) {
      const deps = pyImports(fs.readFileSync(path.join(dir, f), "utf8"), path.basename(dir), modules);
      g.set(`${tree}/${f}`, new Set(deps.filter((d) => `${d}.py` !== f).map((d) => `${tree}/${d}.py`)));
    }
  }
  return g;
}

/** Every cycle a depth-first search meets, as the path a → b → ... → a (one per back edge). */
export function findCycles(g: Graph): string[][] {
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const cycles: string[][] = [];
  const visit = (n: string): void => {
    state.set(n, "open");
    stack.push(n);
    for (const d of [...(g.get(n) ?? [])].sort()) {
      if (state.get(d) === "open") cycles.push([...stack.slice(stack.indexOf(d)), d]);
      else if (!state.has(d)) visit(d);
    }
    stack.pop();
    state.set(n, "done");
  };
  for (const n of [...g.keys()].sort()) if (!state.has(n)) visit(n);
  return cycles;
}

test("structure: the cycle finder reports a cycle's path and accepts a tree", () => {
  const g: Graph = new Map([["a", new Set(["b"])], ["b", new Set(["c"])], ["c", new Set(["a"])], ["d", new Set(["a"])]]);
  assert.deepEqual(findCycles(g), [["a", "b", "c", "a"]]);
  assert.deepEqual(findCycles(new Map([["a", new Set(["b", "c"])], ["b", new Set(["c"])], ["c", new Set()]])), []);
  assert.deepEqual(tsImports(`import type { X } from "./x.js";\nimport {\n  a,\n} from "../y.js";\nexport { z } from "./z.js";\nimport "./side.js";\nimport os from "node:os";\nconst m = await import("./lazy.js");`),
    ["./x.js", "../y.js", "./z.js", "./side.js", "./lazy.js"]);
  const mods = new Set(["a", "b", "c", "__init__"]);
  assert.deepEqual(pyImports("import a\nimport os, b as bee\nfrom .c import x\nfrom . import a, zz\nfrom pkg.b import y\nfrom pkg import nothing\n    import c  # lazy", "pkg", mods),
    ["a", "b", "c", "a", "b", "__init__", "c"]);
});

function assertNoNewCycles(cycles: string[][]): void {
  const found = cycles.map((c) => c.join(" → "));
  const fresh = found.filter((c) => !KNOWN_CYCLES_UNTIL_SPLIT.includes(c));
  assert.deepEqual(fresh, [], "import cycles (break each: move what both sides need into a module both import)");
}

test("structure: no import cycle between TypeScript modules of packages/*/src", () => {
  const g = tsGraph();
  assert.ok(g.size > 100, `found only ${g.size} TypeScript files: is the repository root right (${root})?`);
  assertNoNewCycles(findCycles(g));
});

test("structure: no import cycle between Python modules of the guest, the jail and the Python SDK", () => {
  const g = pyGraph();
  assert.ok(g.size > 20, `found only ${g.size} Python files`);
  assertNoNewCycles(findCycles(g));
});

test("structure: KNOWN_CYCLES_UNTIL_SPLIT lists only cycles that still exist", () => {
  const found = [...findCycles(tsGraph()), ...findCycles(pyGraph())].map((c) => c.join(" → "));
  const stale = KNOWN_CYCLES_UNTIL_SPLIT.filter((k) => !found.includes(k));
  assert.deepEqual(stale, [], "these cycles are gone: remove them from KNOWN_CYCLES_UNTIL_SPLIT");
});

test("structure: only store/sqlite/ uses better-sqlite3; feature code sees the store's interface", () => {
  const offenders: string[] = [];
  for (const pkg of packageDirs()) {
    const src = path.join(pkg, "src");
    if (!fs.existsSync(src)) continue;
    for (const file of walk(src, (f) => f.endsWith(".ts") && !f.endsWith(".d.ts"))) {
      const r = rel(file);
      if (r.startsWith("packages/hostd/src/store/")) continue;
      const source = fs.readFileSync(file, "utf8");
      if (/from\s*["']better-sqlite3["']/.test(source)) offenders.push(`${r}: imports better-sqlite3`);
      for (const spec of tsImports(source)) if (/\/store\/sqlite\//.test(spec)) offenders.push(`${r}: imports ${spec}`);
    }
  }
  assert.deepEqual(offenders, [], "data access goes through the Store interface (packages/hostd/src/store/store.ts); add the operation there and in store/sqlite/");
});

// ---- file length

/** The file's opening comment block: leading // or # lines, a leading /* *\/ block, or a module docstring. */
export function openingComment(source: string): string[] {
  const lines = source.split("\n");
  const out: string[] = [];
  let i = 0;
  let inBlock: string | null = null;
  for (; i < lines.length; i++) {
    const t = lines[i]!.trim();
    if (inBlock) {
      out.push(t);
      if (t.includes(inBlock)) inBlock = null;
      continue;
    }
    if (t.startsWith("//") || t.startsWith("#")) out.push(t);
    else if (t.startsWith("/*")) {
      out.push(t);
      if (!t.slice(2).includes("*/")) inBlock = "*/";
    } else if (t.startsWith('"""') || t.startsWith("'''")) {
      out.push(t);
      if (!t.slice(3).includes(t.slice(0, 3))) inBlock = t.slice(0, 3);
    } else if (t === "" && out.length === 0) continue;
    else break;
  }
  return out.map((l) => l.replace(/^(\/\/+|#+!?|\/\*+|\*+\/?|"""|''')\s*/, ""));
}

const statesWhyLong = (source: string): boolean => openingComment(source).some((l) => /^Over 400 lines because\b/i.test(l));

function sourceFiles(): string[] {
  const files: string[] = [];
  for (const pkg of packageDirs()) {
    walk(pkg, (f) => {
      const name = path.basename(f);
      if (name.endsWith(".d.ts") || name.endsWith(".test.ts") || /^test_.*\.py$|_test\.py$|^conftest\.py$/.test(name)) return false;
      return name.endsWith(".ts") || name.endsWith(".py");
    }, files);
  }
  return files;
}

test("structure: the opening-comment reader finds a stated reason in // and # and docstring headers", () => {
  assert.equal(statesWhyLong("// Errors.\n// Over 400 lines because it is a table.\nimport x;"), true);
  assert.equal(statesWhyLong('#!/usr/bin/env python3\n"""Errors.\n\nOver 400 lines because it is a table.\n"""\nimport os'), true);
  assert.equal(statesWhyLong("// Errors.\nimport x;\n// Over 400 lines because too late."), false);
});

test("structure: no source file over 400 lines without a stated reason", () => {
  const files = sourceFiles();
  assert.ok(files.length > 100, `found only ${files.length} source files`);
  const long = files
    .map((f) => ({ file: rel(f), source: fs.readFileSync(f, "utf8") }))
    .map(({ file, source }) => ({ file, lines: source.replace(/\n$/, "").split("\n").length, why: statesWhyLong(source) }))
    .filter((f) => f.lines > MAX_LINES);
  const unexcused = long.filter((f) => !f.why && !KNOWN_UNTIL_SPLIT.includes(f.file)).map((f) => `${f.file} (${f.lines} lines)`);
  assert.deepEqual(unexcused, [], `files over ${MAX_LINES} lines: split each by what its parts do, or start its opening comment with a line "Over 400 lines because <reason>"`);
  const stale = KNOWN_UNTIL_SPLIT.filter((k) => !long.some((f) => f.file === k && !f.why));
  assert.deepEqual(stale, [], "KNOWN_UNTIL_SPLIT lists files that are split now (or state why they are long): remove them from the list");
});
