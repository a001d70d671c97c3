import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { defaultUnitPaths, installService, renderEnvFile, renderUnit, unitTemplatePath, UNIT_NAME, type UnitPaths } from "./service.js";
import { logsCommandLine, parseLogsArgs } from "./logs.js";

const root = defaultUnitPaths().root;
const template = fs.readFileSync(unitTemplatePath(root), "utf8");
const paths: UnitPaths = { node: "/usr/bin/node", cli: "/opt/podflare/packages/cli/dist/main.js", root: "/opt/podflare", envFile: "/etc/podflare/hostd.env" };

function directives(unit: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of unit.split("\n")) {
    const d = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (d) m.set(d[1]!, d[2]!);
  }
  return m;
}

test("the unit runs this checkout's CLI with the environment file, restarts always, and reaps with KillMode=mixed", () => {
  const unit = renderUnit(template, paths);
  const d = directives(unit);
  assert.equal(d.get("ExecStart"), "/usr/bin/node /opt/podflare/packages/cli/dist/main.js serve");
  assert.equal(d.get("EnvironmentFile"), "-/etc/podflare/hostd.env");
  assert.equal(d.get("WorkingDirectory"), "/opt/podflare");
  assert.equal(d.get("Restart"), "always");
  assert.equal(d.get("KillMode"), "mixed");
  assert.equal(d.get("LimitNOFILE"), "1048576");
  assert.equal(d.get("TasksMax"), "infinity");
  assert.equal(d.get("OOMScoreAdjust"), "-1000");
  assert.equal(d.get("WantedBy"), "multi-user.target");
  assert.doesNotMatch(unit, /@[A-Z_]+@/);
  assert.match(unit, /^\[Unit\]$/m);
  assert.match(unit, /^\[Service\]$/m);
  assert.match(unit, /^\[Install\]$/m);
});

test("the default paths are this checkout's and this node's", () => {
  const p = defaultUnitPaths();
  assert.equal(p.node, process.execPath);
  assert.ok(fs.existsSync(p.cli), p.cli);
  assert.ok(fs.existsSync(path.join(p.root, "deploy/systemd", UNIT_NAME)));
});

test("a path systemd would split or expand is refused with what to do", () => {
  assert.throws(() => renderUnit(template, { ...paths, root: "/opt/pod flare" }), /root path .* move it to a plain absolute path/);
  assert.throws(() => renderUnit(template, { ...paths, node: "/usr/bin/%n" }), /node path/);
  assert.throws(() => renderUnit(template, { ...paths, envFile: "relative.env" }), /envFile path/);
});

test("the environment file holds hostd's PODFLARE_* settings only, quoted", () => {
  const text = renderEnvFile({ PODFLARE_HOSTD_ADDR: "0.0.0.0:7070", PODFLARE_ADMIN_KEY: "k1", PODFLARE_API_KEY: "client", PODFLARE_HOSTD_URL: "http://x", HOME: "/root" });
  assert.deepEqual(text.split("\n").filter((l) => l && !l.startsWith("#")), ['PODFLARE_ADMIN_KEY="k1"', 'PODFLARE_HOSTD_ADDR="0.0.0.0:7070"']);
  assert.throws(() => renderEnvFile({ PODFLARE_X: 'a"b' }), /by hand/);
});

function tmpInstall(systemdRunning: boolean, status = 0) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pf-unit-"));
  const calls: string[][] = [];
  const logs: string[] = [];
  const p = { ...defaultUnitPaths(path.join(dir, "etc/hostd.env")) };
  const run = () =>
    installService({
      paths: p,
      unitDir: path.join(dir, "units"),
      env: { PODFLARE_ADMIN_KEY: "secret-admin" },
      systemctl: (a) => {
        calls.push(a);
        return { status, stderr: status ? "boom" : "" };
      },
      systemdRunning,
      log: (m) => logs.push(m),
    });
  return { dir, calls, logs, run, envFile: p.envFile, unitFile: path.join(dir, "units", UNIT_NAME) };
}

test("install writes the unit and a 0600 environment file, then daemon-reload and enable --now", () => {
  const t = tmpInstall(true);
  try {
    assert.equal(t.run(), 0);
    assert.deepEqual(t.calls, [["daemon-reload"], ["enable", "--now", UNIT_NAME]]);
    assert.match(fs.readFileSync(t.unitFile, "utf8"), /^Restart=always$/m);
    assert.equal(fs.statSync(t.envFile).mode & 0o777, 0o600);
    assert.match(fs.readFileSync(t.envFile, "utf8"), /^PODFLARE_ADMIN_KEY="secret-admin"$/m);
    // A second install keeps the operator's environment file.
    fs.writeFileSync(t.envFile, "PODFLARE_HOSTD_ADDR=0.0.0.0:7070\n");
    assert.equal(t.run(), 0);
    assert.equal(fs.readFileSync(t.envFile, "utf8"), "PODFLARE_HOSTD_ADDR=0.0.0.0:7070\n");
    assert.ok(t.logs.some((l) => l.includes("kept")));
  } finally {
    fs.rmSync(t.dir, { recursive: true, force: true });
  }
});

test("without systemd nothing is enabled and the answer says how to run hostd; a failing systemctl is reported", () => {
  const t = tmpInstall(false);
  const f = tmpInstall(true, 1);
  try {
    assert.equal(t.run(), 1);
    assert.deepEqual(t.calls, []);
    assert.ok(fs.existsSync(t.unitFile));
    assert.match(t.logs.at(-1)!, /systemd is not running.*podflare serve/);
    assert.equal(f.run(), 1);
    assert.deepEqual(f.calls, [["daemon-reload"]]);
    assert.match(f.logs.at(-1)!, /systemctl daemon-reload failed \(exit 1\): boom/);
  } finally {
    fs.rmSync(t.dir, { recursive: true, force: true });
    fs.rmSync(f.dir, { recursive: true, force: true });
  }
});

test("podflare logs reads the unit from journald as hostd wrote it, or tails a file", () => {
  assert.deepEqual(logsCommandLine(parseLogsArgs(["-f", "-n", "20"])), ["journalctl", "-u", UNIT_NAME, "-o", "cat", "-n", "20", "-f", "--no-pager"]);
  assert.deepEqual(logsCommandLine(parseLogsArgs(["--file", "/var/log/h.log"])), ["tail", "-n", "100", "/var/log/h.log"]);
  assert.deepEqual(logsCommandLine(parseLogsArgs(["--file", "/var/log/h.log", "--follow"])), ["tail", "-n", "100", "-F", "/var/log/h.log"]);
  assert.throws(() => parseLogsArgs(["-n", "x"]), /whole number/);
  assert.throws(() => parseLogsArgs(["--bogus"]), /unknown option/);
});
