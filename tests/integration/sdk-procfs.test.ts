// Processes, filesystem and PTY through both SDKs (sandbox.processes, sandbox.fs, sandbox.pty)
// against the real hostd.
import { test } from "node:test";
import assert from "node:assert/strict";
import { DirectoryNotEmptyError, FileExistsError, ProcessNotFoundError, Sandbox, type ProcessEvent } from "podflare";
import { hostdUrl } from "../support/api.js";
import { runPythonSdk } from "../support/python-sdk.js";

test("ts: processes start/connect/stdin/closeStdin/wait/signal, fs list/stat/mkdir/move/remove/watch", async () => {
  const sb = await Sandbox.create({ host: hostdUrl() });
  try {
    const p = await sb.processes.start("cat; echo end >&2", { stdin: true, tag: "cat" });
    await sb.processes.sendStdin("cat", "one\n");
    await sb.processes.sendStdin(p.pid, new Uint8Array([0x74, 0x77, 0x6f, 0x0a]));
    await sb.processes.closeStdin(p.pid);
    assert.equal((await sb.processes.wait("cat")).exitCode, 0);
    const events: ProcessEvent[] = [];
    for await (const ev of sb.processes.connect(p.pid)) events.push(ev);
    assert.equal(events[0]!.type, "start");
    assert.equal(events.filter((e) => e.type === "stdout").map((e) => (e as { data: string }).data).join(""), "one\ntwo\n");
    assert.deepEqual(events.at(-1), { type: "exit", exitCode: 0, signal: null });
    const s = await sb.processes.start("sleep", { args: ["100"] });
    await sb.processes.signal(s.pid, "SIGTERM");
    assert.equal((await sb.processes.wait(s.pid)).signal, "SIGTERM");
    assert.ok((await sb.processes.list()).length >= 2);
    await assert.rejects(sb.processes.get(424242), ProcessNotFoundError);

    await sb.fs.mkdir("/root/t/u", { parents: true });
    await assert.rejects(sb.fs.mkdir("/root/t/u"), FileExistsError);
    const w = await sb.fs.watch("/root/t");
    await sb.upload("x", "/root/t/file");
    const seen: string[] = [];
    for await (const ev of w) {
      seen.push(`${ev.type}:${ev.name}`);
      if (ev.name.startsWith(".pf-upload") || ev.name !== "file") continue;
      break;
    }
    w.stop();
    assert.ok(seen.some((x) => x.endsWith(":file")), seen.join(","));
    await sb.fs.move("/root/t/file", "/root/t/u/moved");
    const listed = await sb.fs.list("/root/t", { depth: 2 });
    assert.deepEqual(listed.map((e) => e.path), ["/root/t/u", "/root/t/u/moved"]);
    assert.equal((await sb.fs.stat("/root/t/u/moved")).size, 1);
    await assert.rejects(sb.fs.remove("/root/t"), DirectoryNotEmptyError);
    await sb.fs.remove("/root/t", { recursive: true });
  } finally {
    await sb.close();
  }
});

const PY = `
import sys
import podflare
from podflare import DirectoryNotEmptyError, FileExistsError, ProcessNotFoundError
sb = podflare.Sandbox()
try:
    p = sb.processes.start("cat; echo end >&2", stdin=True, tag="cat")
    sb.processes.send_stdin("cat", "one\\n")
    sb.processes.send_stdin(p.pid, b"two\\n")
    sb.processes.close_stdin(p.pid)
    assert sb.processes.wait("cat").exit_code == 0
    evs = list(sb.processes.connect(p.pid))
    assert evs[0].type == "start", evs
    assert "".join(e.data for e in evs if e.type == "stdout") == "one\\ntwo\\n", evs
    assert "".join(e.data for e in evs if e.type == "stderr") == "end\\n", evs
    assert evs[-1].type == "exit" and evs[-1].exit_code == 0, evs
    s = sb.processes.start("sleep", ["100"])
    sb.processes.kill(s.pid)
    assert sb.processes.wait(s.pid).exit_code == 137
    try:
        sb.processes.get(424242)
        raise AssertionError("no error")
    except ProcessNotFoundError:
        pass
    sb.fs.mkdir("/root/t/u", parents=True)
    try:
        sb.fs.mkdir("/root/t/u")
        raise AssertionError("no error")
    except FileExistsError:
        pass
    with sb.fs.watch("/root/t", recursive=True) as w:
        sb.run_code("open('/root/t/u/new', 'w').write('abc')")
        kinds = []
        for ev in w:
            kinds.append((ev.type, ev.name))
            if ev.type == "write":
                break
    assert ("create", "u/new") in kinds, kinds
    sb.fs.move("/root/t/u/new", "/root/t/moved")
    assert [e.name for e in sb.fs.list("/root/t")] == ["moved", "u"]
    assert sb.fs.stat("/root/t/moved").size == 3
    try:
        sb.fs.remove("/root/t")
        raise AssertionError("no error")
    except DirectoryNotEmptyError:
        pass
    sb.fs.remove("/root/t", recursive=True)
    t = sb.pty.open(rows=24, cols=80)
    t.resize(33, 111)
    t.write("stty size; exit 5\\r")
    out = "".join(e.data for e in t.output())
    assert "33 111" in out, out
    assert t.wait().exit_code == 5
    print("py-ok")
finally:
    sb.close()
`;

test("python: processes, fs (watch included) and the PTY over REST", () => {
  const r = runPythonSdk(PY, hostdUrl(), [], 120_000);
  assert.equal(r.status, 0, r.stderr + r.stdout);
  assert.equal(r.stdout.trim(), "py-ok");
});
