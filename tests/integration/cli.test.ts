// The `podflare` command against the test hostd, and on scratch state dirs of its own (no hostd)
// for what must never touch one: --help, usage errors, read-only commands, keys.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { api, closeSandbox, createSandbox, hostdUrl } from "../support/api.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const podflare = (...args: string[]) =>
  spawnSync(process.execPath, [path.join(root, "packages/cli/dist/main.js"), ...args], {
    encoding: "utf8",
    env: { ...process.env, PODFLARE_HOSTD_URL: hostdUrl() },
    timeout: 60_000,
  });

test("podflare ls, exec (python and --bash, exit code passed through), rm", () => {
  return (async () => {
    const id = await createSandbox();
    assert.match(podflare("ls").stdout, new RegExp(id));
    let r = podflare("exec", id, "x = 20; print(x * 2 + 2)");
    assert.equal(r.stdout, "42\n");
    assert.equal(r.status, 0);
    r = podflare("exec", id, "echo from bash; exit 3", "--bash");
    assert.equal(r.stdout, "from bash\n");
    assert.equal(r.status, 3);
    r = podflare("rm", id);
    assert.equal(r.status, 0);
    r = podflare("exec", id, "print(1)");
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /404: sandbox .* not found/);
  })();
});

test("podflare exec on a terminal shows a sandbox's OSC 52 (clipboard) and other escapes escaped, colours as they are; piped or --raw, output is as it came", async () => {
  const id = await createSandbox();
  try {
    const code = "import sys; _ = sys.stdout.write('\\x1b]52;c;aGk=\\x07\\x1b[31mred\\x1b[0m\\n')";
    // util-linux script(1) gives the command a terminal; its output is what the terminal got.
    const cli = path.join(root, "packages/cli/dist/main.js");
    const quote = (s: string) => `'${s.replace(/'/g, "'\\''")}'`;
    const onTty = (...extra: string[]) =>
      spawnSync("script", ["-qec", [process.execPath, cli, "exec", ...extra, id, code].map(quote).join(" "), "/dev/null"], {
        encoding: "utf8",
        env: { ...process.env, PODFLARE_HOSTD_URL: hostdUrl() },
        timeout: 60_000,
      });
    const tty = onTty();
    assert.equal(tty.status, 0, tty.stderr);
    assert.ok(tty.stdout.includes("\\x1b]52;c;aGk=\\x07"), `the OSC 52 was not shown escaped: ${JSON.stringify(tty.stdout)}`);
    assert.ok(!tty.stdout.includes("\x1b]52"), "the OSC 52 reached the terminal");
    assert.ok(tty.stdout.includes("\x1b[31mred\x1b[0m"), `colours did not pass: ${JSON.stringify(tty.stdout)}`);
    assert.ok(onTty("--raw").stdout.includes("\x1b]52;c;aGk=\x07"), "--raw did not print the output as it came");
    const piped = podflare("exec", id, code);
    assert.equal(piped.stdout, "\x1b]52;c;aGk=\x07\x1b[31mred\x1b[0m\n");
  } finally {
    await closeSandbox(id);
  }
});

test("podflare template ls lists the default template as ready", () => {
  const r = podflare("template", "ls");
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^default\s+yes\s+\d+ MB/m);
});

test("unknown command → usage and exit 2", () => {
  const r = podflare("frobnicate");
  assert.equal(r.status, 2);
  assert.match(r.stderr, /usage: podflare/);
});

test("podflare usage prints the caller's totals under the REST names; rm of an unknown id fails with the 404", () => {
  let r = podflare("usage");
  assert.equal(r.status, 0, r.stderr);
  const names = r.stdout.trimEnd().split("\n").map((line) => line.split(/\s+/)[0]);
  assert.deepEqual(names, ["owner", "sandboxes_created", "sandbox_seconds", "gb_seconds", "execs", "forks"]);
  assert.match(r.stdout, /^execs {14}\d+$/m);
  r = podflare("rm", "sbx_" + "0".repeat(32));
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /404: sandbox .* not found/);
});

// ---- on scratch state dirs: nothing here may create state, start a daemon or reach a hostd

const scratchRoot = fs.mkdtempSync(path.join(os.tmpdir(), "podflare-cli-test-"));
after(() => fs.rmSync(scratchRoot, { recursive: true, force: true }));
let scratchCount = 0;
/** A state dir path that does not exist yet. */
const scratchDir = () => path.join(scratchRoot, `state-${++scratchCount}`);

/** The CLI on `stateDir`, with a dir pool (never a loop device), a hostd address nothing listens on, no keys in the environment. */
function onScratch(stateDir: string, ...args: string[]) {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PODFLARE_STATE_DIR: stateDir,
    PODFLARE_STORAGE_DRIVER: "dir",
    PODFLARE_HOSTD_ADDR: "127.0.0.1:1",
    PODFLARE_HOSTD_URL: "http://127.0.0.1:1",
  };
  for (const k of ["PODFLARE_API_KEYS", "PODFLARE_ADMIN_KEY", "PODFLARE_AUTH_DISABLED", "PODFLARE_API_KEY"]) delete env[k];
  // Short: a command that ignored --help and ran (serve) fails here instead of holding the file.
  return spawnSync(process.execPath, [path.join(root, "packages/cli/dist/main.js"), ...args], { encoding: "utf8", env, timeout: 20_000 });
}

const commands = [
  ["serve"], ["serve", "--install-service"], ["setup"], ["down"], ["ls"], ["exec"], ["rm"], ["usage"], ["logs"], ["mcp"], ["edge"],
  ["keys"], ["keys", "create"], ["keys", "ls"], ["keys", "revoke"], ["template"], ["template", "build"], ["template", "ls"],
];

test("every command and subcommand answers --help and -h with its usage, exit 0, and creates nothing", () => {
  for (const cmd of commands) {
    for (const help of ["--help", "-h"]) {
      const dir = scratchDir();
      const r = onScratch(dir, ...cmd, help);
      const what = `podflare ${cmd.join(" ")} ${help}`;
      assert.equal(r.status, 0, `${what}: ${r.stderr}`);
      assert.match(r.stdout, new RegExp(`^usage: podflare ${cmd.filter((a) => !a.startsWith("-")).join(" ")}\\b`), what);
      assert.doesNotMatch(r.stdout, /pf_live_/, what);
      assert.equal(fs.existsSync(dir), false, `${what} created ${dir}`);
    }
  }
  // Help wins over anything else on the line, even arguments that would make a key.
  const dir = scratchDir();
  const r = onScratch(dir, "keys", "create", "--tier", "pro", "--name", "ci", "--help");
  assert.equal(r.status, 0);
  assert.doesNotMatch(r.stdout + r.stderr, /pf_live_|created key_/);
  assert.equal(fs.existsSync(dir), false);
});

test("unknown options, missing arguments and extra arguments exit 2 naming the cause and the usage, and create nothing", () => {
  const cases: [string[], RegExp, RegExp][] = [
    [["ls", "--bogus"], /unknown option --bogus/, /usage: podflare ls/],
    [["usage", "-x"], /unknown option -x/, /usage: podflare usage/],
    [["logs", "--bogus"], /unknown option --bogus/, /usage: podflare logs/],
    [["down", "--forse"], /unknown option --forse/, /usage: podflare down/],
    [["serve", "--instal-service"], /unknown option --instal-service/, /usage: podflare serve/],
    [["setup", "now"], /unexpected argument "now"/, /usage: podflare setup/],
    [["edge", "--regions", "a=http://x"], /unknown option --regions/, /usage: podflare edge/],
    [["keys"], /missing subcommand/, /usage: podflare keys create/],
    [["keys", "create", "--tier", "pro", "--name", "ci", "--bogus"], /unknown option --bogus/, /usage: podflare keys create/],
    [["keys", "create", "--tier", "pro"], /--name is required/, /usage: podflare keys create/],
    [["keys", "create", "--name", "ci"], /--tier is required/, /usage: podflare keys create/],
    [["keys", "create", "--tier", "gold", "--name", "ci"], /--tier must be one of free, pro/, /usage: podflare keys create/],
    [["keys", "create", "--name", "--tier", "pro"], /--name needs a value/, /usage: podflare keys create/],
    [["keys", "ls", "--all"], /unknown option --all/, /usage: podflare keys ls/],
    [["template"], /missing subcommand/, /usage: podflare template build/],
    [["template", "ls", "--bogus"], /unknown option --bogus/, /usage: podflare template ls/],
    [["template", "build", "nope"], /unknown template "nope"/, /usage: podflare template build/],
    [["exec", "sbx_1", "print(1)", "print(2)"], /unexpected argument "print\(2\)"/, /usage: podflare exec/],
    [["rm"], /missing ID/, /usage: podflare rm/],
  ];
  for (const [args, cause, usage] of cases) {
    const dir = scratchDir();
    const r = onScratch(dir, ...args);
    const what = `podflare ${args.join(" ")}`;
    assert.equal(r.status, 2, `${what}: ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, cause, what);
    assert.match(r.stderr, usage, what);
    assert.equal(fs.existsSync(dir), false, `${what} created ${dir}`);
  }
});

test("read-only commands on a state dir with nothing in it fail naming PODFLARE_STATE_DIR, and create nothing", () => {
  const missing = scratchDir();
  const empty = scratchDir();
  fs.mkdirSync(empty);
  for (const dir of [missing, empty]) {
    for (const args of [["keys", "ls"], ["keys", "revoke", "key_0123456789ab"], ["template", "ls"]]) {
      const r = onScratch(dir, ...args);
      const what = `podflare ${args.join(" ")} on ${dir}`;
      assert.equal(r.status, 1, `${what}: ${r.stdout}${r.stderr}`);
      assert.ok(r.stderr.includes(`PODFLARE_STATE_DIR=${dir}`), `${what}: ${r.stderr}`);
      assert.match(r.stderr, dir === missing ? /does not exist/ : /has no/, what);
      assert.match(r.stderr, /nothing was created/, what);
    }
  }
  assert.equal(fs.existsSync(missing), false);
  assert.deepEqual(fs.readdirSync(empty), []);
});

test("keys create: the first key of a state dir warns on stderr that auth is now on and how to undo it; later keys do not", () => {
  const dir = scratchDir();
  let r = onScratch(dir, "keys", "create", "--tier", "pro", "--name", "ci");
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^pf_live_[A-Za-z0-9]{40}\n$/);
  const id = /created (key_[0-9a-f]+) \(pro, "ci"\)/.exec(r.stderr)?.[1];
  assert.ok(id, r.stderr);
  assert.match(r.stderr, /made the state dir/);
  assert.match(r.stderr, /warning: .*first stored key/);
  assert.match(r.stderr, /Auth is now ON for every client/);
  assert.ok(r.stderr.includes(`podflare keys revoke ${id}\`, then restart hostd`), r.stderr);
  assert.match(r.stderr, /PODFLARE_AUTH_DISABLED=1/);

  r = onScratch(dir, "keys", "create", "--tier=free", "--name=second", "--admin");
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /created key_[0-9a-f]+ \(free, admin, "second"\)/);
  assert.doesNotMatch(r.stderr, /warning|made the state dir/);

  r = onScratch(dir, "keys", "ls");
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trimEnd().split("\n");
  assert.equal(lines.length, 3);
  assert.match(lines[0]!, /^ID\s+PREFIX\s+TIER\s+NAME\s+CREATED\s+LAST USED\s+STATE$/);
  assert.match(r.stdout, new RegExp(`^${id}\\s+pf_live_\\S+…\\s+pro\\s+ci\\s+`, "m"));
  assert.match(r.stdout, /\sfree\*\s+second\s/);
  r = onScratch(dir, "keys", "revoke", id);
  assert.equal(r.status, 0, r.stderr);
  assert.match(onScratch(dir, "keys", "ls").stdout, new RegExp(`^${id}.*revoked$`, "m"));
  // Revoked by the plain key: the output names it by its prefix only, and so does the error for one revoked already.
  const second = onScratch(dir, "keys", "create", "--tier", "free", "--name", "third");
  const plain = second.stdout.trim();
  r = onScratch(dir, "keys", "revoke", plain);
  assert.equal(r.status, 0, r.stderr);
  assert.ok(!r.stdout.includes(plain) && r.stdout.includes(plain.slice(0, 12)), r.stdout);
  r = onScratch(dir, "keys", "revoke", plain);
  assert.equal(r.status, 1);
  assert.ok(!r.stderr.includes(plain), r.stderr);
});

// ---- against the test hostd

test("podflare exec prints the value of a bare last expression, as a REPL does, after the output", () => {
  return (async () => {
    const id = await createSandbox();
    try {
      let r = podflare("exec", id, "6*7");
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, "42\n");
      r = podflare("exec", id, "print('a'); 'b' * 2");
      assert.equal(r.stdout, "a\n'bb'\n");
      r = podflare("exec", id, "x = 1");
      assert.equal(r.stdout, "");
      r = podflare("exec", id, "--", "-1");
      assert.equal(r.stdout, "-1\n");
      // A second code argument is refused before anything runs.
      r = podflare("exec", id, "open('/tmp/cli-ran', 'w').close()", "print(2)");
      assert.equal(r.status, 2);
      assert.match(r.stderr, /unexpected argument "print\(2\)"/);
      assert.equal(podflare("exec", id, "import os; os.path.exists('/tmp/cli-ran')").stdout, "False\n");
    } finally {
      await closeSandbox(id);
    }
  })();
});

test("podflare rm closes every id given, reports each failure and exits 1 if any failed", () => {
  return (async () => {
    const good = [await createSandbox(), await createSandbox()];
    const bad = "sbx_" + "0".repeat(32);
    const r = podflare("rm", good[0]!, bad, good[1]!);
    assert.equal(r.status, 1);
    assert.match(r.stderr, new RegExp(`podflare rm ${bad}: 404: sandbox .* not found`));
    assert.match(r.stderr, /1 of 3 failed/);
    assert.deepEqual(r.stdout.trimEnd().split("\n"), [`closed ${good[0]}`, `closed ${good[1]}`]);
    for (const id of good) assert.equal((await api("GET", `/v1/sandboxes/${id}`)).status, 404, `${id} still exists`);
  })();
});

test("podflare ls: every column starts at the same offset on every line, 512 MB and 1024 MB alike", () => {
  return (async () => {
    const small = await createSandbox({ memory_mb: 512 });
    const big = await createSandbox({ memory_mb: 1024 });
    try {
      const r = podflare("ls");
      assert.equal(r.status, 0, r.stderr);
      const [header, ...rows] = r.stdout.trimEnd().split("\n");
      assert.match(header!, /^ID\s+STATE\s+TEMPLATE\s+MEMORY\s+CREATED$/);
      const starts = (line: string) => [...line.matchAll(/(?:^|  )(\S)/g)].map((m) => m.index! + m[0].length - 1);
      const want = starts(header!);
      const mine = rows.filter((l) => l.startsWith(small) || l.startsWith(big));
      assert.equal(mine.length, 2, r.stdout);
      for (const row of mine) assert.deepEqual(starts(row), want, `${row}\n${header}`);
      assert.match(mine.find((l) => l.startsWith(small))!, /\s512 MB\s/);
    } finally {
      await closeSandbox(small);
      await closeSandbox(big);
    }
  })();
});

test("serve --install-service --env-path writes the environment file when it is not there yet (Node took --env-file for its own)", () => {
  const dir = scratchDir();
  const envPath = path.join(scratchRoot, `env-${scratchCount}`, "hostd.env");
  const unitDir = path.join(scratchRoot, `units-${scratchCount}`);
  const r = onScratch(dir, "serve", "--install-service", "--env-path", envPath, "--unit-dir", unitDir);
  assert.ok(fs.existsSync(envPath), `no environment file written: ${r.status} ${r.stderr}`);
  assert.ok(fs.readdirSync(unitDir).some((f) => f.endsWith(".service")), `no unit written: ${r.stderr}`);
  assert.doesNotMatch(r.stderr, /not found/);
});
