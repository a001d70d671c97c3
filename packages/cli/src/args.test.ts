import { test } from "node:test";
import assert from "node:assert/strict";
import { parseCommand, subcommand, UsageError, wantsHelp, type CommandSpec } from "./args.js";
import { formatTable } from "./table.js";
import { renderEvent } from "./sandboxes.js";

const spec: CommandSpec = {
  usage: "usage: podflare thing [--flag] [--name N] [-n|--lines N] ID [ID...]",
  options: [{ name: "--flag" }, { name: "--name", value: "N" }, { name: "--lines", short: "-n", value: "N" }, { name: "--region", value: "R", repeatable: true }],
  positionals: ["ID"],
  variadic: true,
};

const usageError = (re: RegExp) => (err: unknown) => err instanceof UsageError && re.test(err.message) && err.usage === spec.usage;

test("options, values (separate, =, short) and positionals are parsed; -- ends the options", () => {
  const p = parseCommand(spec, ["a", "--flag", "--name", "ci", "-n", "5", "--region=x=1", "--region", "y=2", "b", "--", "--not-an-option", "-1"]);
  assert.deepEqual(p.positionals, ["a", "b", "--not-an-option", "-1"]);
  assert.equal(p.has("--flag"), true);
  assert.equal(p.value("--name"), "ci");
  assert.equal(p.value("--lines"), "5");
  assert.deepEqual(p.values("--region"), ["x=1", "y=2"]);
  assert.equal(p.has("--admin"), false);
  assert.equal(parseCommand(spec, ["a", "--name=-odd"]).value("--name"), "-odd");
});

test("an unknown option, a missing value, a value on a flag, a repeat, and a wrong count of arguments are usage errors naming the cause", () => {
  assert.throws(() => parseCommand(spec, ["a", "--bogus"]), usageError(/^unknown option --bogus/));
  assert.throws(() => parseCommand(spec, ["a", "-x"]), usageError(/^unknown option -x \(put -- before/));
  assert.throws(() => parseCommand(spec, ["a", "--name"]), usageError(/^--name needs a value \(N\)$/));
  // A forgotten value is not taken from the next option.
  assert.throws(() => parseCommand(spec, ["a", "--name", "--flag"]), usageError(/^--name needs a value/));
  assert.throws(() => parseCommand(spec, ["a", "--flag=1"]), usageError(/^--flag takes no value$/));
  assert.throws(() => parseCommand(spec, ["a", "--name", "x", "--name", "y"]), usageError(/^--name given twice$/));
  assert.throws(() => parseCommand(spec, []), usageError(/^missing ID$/));
  const two: CommandSpec = { usage: "usage: podflare exec ID CODE", positionals: ["ID", "CODE"] };
  assert.throws(() => parseCommand(two, ["sbx"]), /^UsageError: missing CODE$/);
  assert.throws(() => parseCommand(two, ["sbx", "print(1)", "print(2)"]), /unexpected argument "print\(2\)"/);
  assert.throws(() => parseCommand({ usage: "usage: podflare ls" }, ["--x"]), (e: unknown) => e instanceof UsageError && e.message === "unknown option --x");
});

test("-h and --help anywhere before -- ask for help, whatever else is wrong; after -- they are data", () => {
  assert.equal(wantsHelp(["create", "--tier", "--help"]), true);
  assert.equal(wantsHelp(["--bogus", "-h"]), true);
  assert.equal(wantsHelp(["sbx", "--", "--help"]), false);
  assert.equal(wantsHelp(["sbx", "print('--help')"]), false);
});

test("subcommand: help for the group, a usage error when missing or unknown", () => {
  const logged: string[] = [];
  const log = console.log;
  console.log = (s: string) => logged.push(s);
  try {
    assert.equal(subcommand("usage: podflare keys …", ["ls"], ["--help"]), undefined);
    assert.equal(subcommand("usage: podflare keys …", ["ls"], ["-h", "ls"]), undefined);
  } finally {
    console.log = log;
  }
  assert.deepEqual(logged, ["usage: podflare keys …", "usage: podflare keys …"]);
  assert.deepEqual(subcommand("u", ["ls", "create"], ["create", "--help"]), { name: "create", rest: ["--help"] });
  assert.throws(() => subcommand("u", ["ls"], []), /missing subcommand \(ls\)/);
  assert.throws(() => subcommand("u", ["ls"], ["lss"]), /unknown subcommand "lss"/);
  assert.throws(() => subcommand("u", ["ls"], ["--bogus"]), /unknown option --bogus/);
});

test("formatTable: every column as wide as its widest cell, so each column starts at one offset on every line", () => {
  const lines = formatTable([
    ["ID", "MEMORY", "CREATED"],
    ["sbx_a", "512 MB", "2026-01-01"],
    ["sbx_b", "1024 MB", "2026-01-02"],
    ["sbx_c", "65536 MB", "2026-01-03"],
  ]);
  const at = lines[0]!.indexOf("CREATED");
  assert.deepEqual(lines.slice(1).map((l) => l.indexOf("2026")), [at, at, at]);
  assert.equal(lines[0], "ID     MEMORY    CREATED");
  assert.equal(lines[1], "sbx_a  512 MB    2026-01-01");
});

test("renderEvent: output as it came, a result's text/plain on stdout with a newline, nothing for an image alone or an error event", () => {
  const at = { seq: 0, ts: 0 };
  assert.deepEqual(renderEvent({ type: "stdout", data: "a\n", ...at }), { stream: "stdout", text: "a\n" });
  assert.deepEqual(renderEvent({ type: "stderr", data: "b", ...at }), { stream: "stderr", text: "b" });
  assert.deepEqual(renderEvent({ type: "result", data: { "text/plain": "42", "text/html": "<b>42</b>" }, is_main_result: true, ...at }), { stream: "stdout", text: "42\n" });
  assert.equal(renderEvent({ type: "result", data: { "image/png": "iVBOR" }, is_main_result: false, ...at }), undefined);
  assert.equal(renderEvent({ type: "error", name: "ZeroDivisionError", value: "x", traceback: "T", ...at }), undefined);
  assert.equal(renderEvent({ type: "exit", data: 0, ...at }), undefined);
});
