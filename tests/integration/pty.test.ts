// The PTY over a WebSocket, through the TypeScript SDK (docs/api.md, "PTY"): a real curses
// program, interactive python3, and a resize that `stty size` sees.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { Sandbox, SandboxNotFoundError, type Terminal } from "podflare";
import { api, hostdUrl } from "../support/api.js";
import { eventually } from "../support/host.js";

let sb: Sandbox;

before(async () => {
  sb = await Sandbox.create({ host: hostdUrl() });
});
after(() => sb.close());

/** Collects a terminal's output; `seen(text)` waits until it appeared after `from`. */
function collect(t: Terminal) {
  let out = "";
  t.onData((b) => {
    out += b.toString("utf8");
  });
  return {
    get text() {
      return out;
    },
    mark: () => out.length,
    seen: (text: string | RegExp, from = 0, timeoutMs = 15_000) =>
      eventually(() => (typeof text === "string" ? out.slice(from).includes(text) : text.test(out.slice(from))), `terminal output ${String(text)}; got ${JSON.stringify(out.slice(-400))}`, timeoutMs),
  };
}

const CURSES_APP = `
import curses
def main(scr):
    curses.curs_set(0)
    scr.addstr(2, 5, "HELLO CURSES")
    scr.addstr(3, 5, "size %dx%d" % (curses.LINES, curses.COLS))
    scr.refresh()
    return scr.getkey()
key = curses.wrapper(main)
print("got key " + key)
`;

test("a real curses program draws at the terminal's size, reads a key and exits", async () => {
  await sb.upload(CURSES_APP, "/root/app.py");
  const t = await sb.pty.open({ cmd: "python3 /root/app.py", rows: 30, cols: 100 });
  const out = collect(t);
  await out.seen("HELLO CURSES");
  await out.seen("size 30x100");
  assert.match(out.text, /\x1b\[/, "curses writes escape sequences");
  t.write("q");
  await out.seen("got key q");
  assert.deepEqual(await t.exited, { exitCode: 0, signal: null });
});

test("interactive python3: the prompt, an expression, exit()", async () => {
  const t = await sb.pty.open({ cmd: "python3 -q" });
  const out = collect(t);
  await out.seen(">>> ");
  const m = out.mark();
  t.write("6 * 7\r");
  await out.seen("42", m);
  t.write("exit()\r");
  assert.equal((await t.exited).exitCode, 0);
});

test("bash by default; resize changes `stty size`; Ctrl-C interrupts; attach by pid", async () => {
  const t = await sb.pty.open({ rows: 24, cols: 80 });
  const out = collect(t);
  t.write("stty size\r");
  await out.seen("24 80");
  let m = out.mark();
  t.resize(40, 120);
  t.write("stty size\r");
  await out.seen("40 120", m);
  m = out.mark();
  t.write("sleep 100\r");
  await out.seen(/sleep 100\r\n.*\x1b\[\?2004l/s, m); // bash has run it
  m = out.mark();
  t.write("\x03");
  await out.seen("^C", m);
  t.write("echo after-$((1+1))\r");
  await out.seen("after-2", m);
  // A second session on the same process sees its recent output and can type into it.
  const again = await sb.pty.open({ pid: t.pid });
  const out2 = collect(again);
  await out2.seen("after-2");
  again.write("exit 7\r");
  assert.equal((await again.exited).exitCode, 7);
  assert.equal((await t.exited).exitCode, 7);
  assert.deepEqual(t.reportedErrors, []);
});

test("closing the session hangs up the shell it started", async () => {
  const t = await sb.pty.open();
  const out = collect(t);
  t.write("echo ready\r");
  await out.seen("ready");
  t.close();
  await eventually(async () => !(await sb.processes.get(t.pid)).running, "the shell to end after the hang-up", 10_000);
});

test("wrong ids and a plain GET are clear errors", async () => {
  const res = await api("GET", `/v1/sandboxes/${sb.id}/pty`);
  assert.equal(res.status, 400);
  assert.equal(((await res.json()) as { code: string }).code, "bad_request");
  await assert.rejects(sb.pty.open({ pid: 999999 }), /no process/);
  const other = await Sandbox.create({ host: hostdUrl() });
  await other.close();
  await assert.rejects(other.pty.open(), SandboxNotFoundError);
});
