// The hosted SDKs' documented surface that our own names did not cover, through both SDKs
// against the real hostd: upload with the path first (a string then bytes), `Client` shared by
// sandboxes, the `Event` name, and the PTY's hosted API (create / attach / sendInput / resize /
// kill / wait) driving an interactive python3.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Client, Sandbox, type Event, type PtyHandle } from "podflare";
import { hostdUrl } from "../support/api.js";
import { eventually } from "../support/host.js";
import { runPythonSdk } from "../support/python-sdk.js";

/** Collects a PTY handle's output; `seen(text, from)` waits until it appeared after `from`. */
function output() {
  let text = "";
  return {
    onData: (b: Uint8Array) => {
      text += Buffer.from(b).toString("utf8");
    },
    get text() {
      return text;
    },
    mark: () => text.length,
    seen: (s: string, from = 0) => eventually(() => text.slice(from).includes(s), `terminal output ${JSON.stringify(s)}; got ${JSON.stringify(text.slice(-300))}`, 20_000),
  };
}

test("ts: Client shared by sandboxes, upload path-first with bytes, Event", async () => {
  const client = new Client({ host: hostdUrl() });
  const a = await Sandbox.create({ client });
  const b = await Sandbox.create({ client });
  try {
    assert.notEqual(a.id, b.id);
    await a.upload("data.csv", Buffer.from("a,b\n1,2\n"));                 // the hosted README's order
    await a.upload("/root/ab.bin", new Uint8Array([0, 255]).buffer);
    await a.upload("/root/p.txt", "/root/q.txt");                           // two strings: data first
    assert.equal((await a.download("/root/data.csv")).toString(), "a,b\n1,2\n");
    assert.deepEqual([...(await a.download("/root/ab.bin"))], [0, 255]);
    assert.equal((await a.download("/root/q.txt")).toString(), "/root/p.txt");
    const events: Event[] = [];
    for await (const ev of b.runCodeStream("print(6 * 7)")) events.push(ev);
    assert.deepEqual(events.map((e) => [e.type, "data" in e ? e.data : undefined]), [["stdout", "42\n"], ["exit", 0]]);
    assert.deepEqual((await Sandbox.listSandboxes({ client })).map((s) => s.id).filter((id) => id === a.id || id === b.id).sort(), [a.id, b.id].sort());
  } finally {
    await a.close();
    await b.close();
  }
});

test("ts: pty.create drives python3 -q: sendInput, resize({cols, rows}), wait; attach, kill, timeoutMs", async () => {
  const sb = await Sandbox.create({ host: hostdUrl() });
  try {
    const out = output();
    const pty: PtyHandle = await sb.pty.create({ cmd: "python3 -q", cols: 120, rows: 40, onData: out.onData, timeoutMs: 0 });
    await out.seen(">>> ");
    const size = "import os; print('size', *os.get_terminal_size())\r";
    let m = out.mark();
    await pty.sendInput(size);
    await out.seen("size 120 40", m);
    await pty.resize({ cols: 100, rows: 30 });
    m = out.mark();
    await pty.sendInput(size);
    await out.seen("size 100 30", m);
    m = out.mark();
    await pty.sendInput(Buffer.from("exit()\r"));
    assert.equal(await pty.wait(), 0);

    // A later turn: the program outlives a disconnected handle; attach replays its recent output.
    const first = output();
    const repl = await sb.pty.create({ cmd: "python3 -q", onData: first.onData });
    await repl.sendInput("print('before-' + 'attach')\r");
    await first.seen("before-attach");
    repl.disconnect();
    const later = output();
    const again = await sb.pty.attach(repl.pid, { onData: later.onData });
    await later.seen("before-attach");
    await sb.pty.resize(repl.pid, { cols: 90, rows: 20 });
    await sb.pty.sendInput(repl.pid, "import os; print('size', *os.get_terminal_size()); exit(3)\r");
    await later.seen("size 90 20");
    assert.equal(await again.wait(), 3);

    const sleeper = await sb.pty.create({ cmd: "sleep 100" });
    await sb.pty.kill(sleeper.pid);
    assert.equal(await sleeper.wait(), 137);
    const timed = await sb.pty.create({ cmd: "sleep 100", timeoutMs: 200 });
    assert.equal(await timed.wait(), 137);
  } finally {
    await sb.close();
  }
});

const PY = `
import threading
from podflare import Client, Event, PodflareError, Sandbox

client = Client()
a = Sandbox(client=client)
b = Sandbox(client=client)
try:
    assert a._transport is b._transport
    a.upload("data.csv", b"a,b\\n1,2\\n")                 # the hosted README's order
    a.upload("/root/mv.bin", memoryview(b"\\x00\\xff"))
    a.upload("/root/p.txt", "/root/q.txt")                 # two strs: data first
    a.upload(path="/root/kw.txt", data="kw")
    assert a.download("/root/data.csv") == b"a,b\\n1,2\\n"
    assert a.download("/root/mv.bin") == b"\\x00\\xff"
    assert a.download("/root/q.txt") == b"/root/p.txt"
    assert a.download("/root/kw.txt") == b"kw"
    evs = list(b.run_code_stream("print(6 * 7)"))
    assert all(isinstance(e, Event) for e in evs), evs
    assert [(e.type, e.data) for e in evs] == [("stdout", "42\\n"), ("exit", 0)], evs
    assert evs[-1].code == 0
    ids = {s["id"] for s in Sandbox.list_sandboxes(client=client)}
    assert {a.id, b.id} <= ids

    class Out:
        def __init__(self):
            self.text = ""
            self.cond = threading.Condition()

        def on_data(self, chunk):
            with self.cond:
                self.text += chunk.decode("utf-8", "replace")
                self.cond.notify_all()

        def mark(self):
            return len(self.text)

        def seen(self, s, start=0):
            with self.cond:
                ok = self.cond.wait_for(lambda: s in self.text[start:], timeout=20)
            assert ok, (s, self.text[-300:])

    out = Out()
    pty = a.pty.create(cmd="python3 -q", cols=120, rows=40, on_data=out.on_data, timeout_ms=0)
    out.seen(">>> ")
    size = "import os; print('size', *os.get_terminal_size())\\r"
    m = out.mark()
    pty.send_input(size)
    out.seen("size 120 40", m)
    pty.resize(cols=100, rows=30)
    m = out.mark()
    pty.send_input(size.encode())
    out.seen("size 100 30", m)
    pty.send_input("exit()\\r")
    assert pty.wait() == 0

    repl = a.pty.create(cmd="python3 -q")
    repl.send_input("print('before-' + 'attach')\\r")
    later = Out()
    again = a.pty.attach(repl.pid, on_data=later.on_data)
    later.seen("before-attach")
    a.pty.resize(repl.pid, cols=90, rows=20)
    a.pty.send_input(repl.pid, "import os; print('size', *os.get_terminal_size()); exit(3)\\r")
    later.seen("size 90 20")
    assert again.wait() == 3
    assert repl.wait() == 3

    sleeper = a.pty.create(cmd="sleep 100", on_data=lambda c: None)
    a.pty.kill(sleeper.pid)
    assert sleeper.wait() == 137
    timed = a.pty.create(cmd="sleep 100", timeout_ms=200)
    assert timed.wait() == 137
    try:
        Sandbox(client=client, host="http://127.0.0.1:1")
        raise AssertionError("no error")
    except TypeError as err:
        assert "Client(...)" in str(err), err
    print("py-ok")
finally:
    a.close()
    b.close()
    client.close()
`;

test("python: Client, upload path-first with bytes and keywords, Event, and the hosted PTY API", () => {
  const r = runPythonSdk(PY, hostdUrl(), [], 180_000);
  assert.equal(r.status, 0, r.stderr + r.stdout);
  assert.equal(r.stdout.trim(), "py-ok");
});
