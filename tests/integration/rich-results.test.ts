// Rich results of python execs through a real hostd and both SDKs: the last expression's
// value, display(), `;` suppression, a pandas DataFrame and a matplotlib figure
// (python-datasci), and the exception as data. The wire shape is fixed (docs/api.md).
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { Sandbox, type Result } from "podflare";
import { exec, hostdUrl } from "../support/api.js";
import { runPythonSdk } from "../support/python-sdk.js";

const sandboxes: Sandbox[] = [];
after(async () => {
  await Promise.all(sandboxes.map((sb) => sb.close().catch(() => undefined)));
});

async function sandbox(template?: string): Promise<Sandbox> {
  const sb = await Sandbox.create({ host: hostdUrl(), ...(template ? { template } : {}) });
  sandboxes.push(sb);
  return sb;
}

/** Width and height from a PNG's signature and IHDR chunk. */
function pngSize(b64: string): { width: number; height: number } {
  const png = Buffer.from(b64, "base64");
  assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], "PNG signature");
  assert.equal(png.toString("latin1", 12, 16), "IHDR");
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

test("the wire: result events after the lines they follow, exactly {type,data,is_main_result} plus seq/ts; stdout stays empty for a bare expression", async () => {
  const sb = await sandbox();
  const r = await exec(sb.id, "print('a')\ndisplay('shown')\n6 * 7", { results: true });
  const shapes = r.events.map((e) => {
    const { seq: _s, ts: _t, ...rest } = e as unknown as Record<string, unknown>;
    return rest;
  });
  assert.deepEqual(shapes, [
    { type: "stdout", data: "a\n" },
    { type: "result", data: { "text/plain": "'shown'" }, is_main_result: false },
    { type: "result", data: { "text/plain": "42" }, is_main_result: true },
    { type: "exit", data: 0 },
  ]);
  assert.equal(r.stdout, "a\n");
  const quiet = await exec(sb.id, "1 + 1", { results: true });
  assert.deepEqual(quiet.events.map((e) => e.type), ["result", "exit"]);
  assert.equal(quiet.stdout, "");
});

test("without results: true the stream has only stdout, stderr and exit, as the hosted API's; loops written for it work", async () => {
  const sb = await sandbox();
  const plain = await exec(sb.id, "print('a')\ndisplay('shown')\n6 * 7");
  assert.deepEqual(plain.events.map((e) => e.type), ["stdout", "exit"]);
  const failed = await exec(sb.id, "print('x')\n1 / 0");
  assert.deepEqual([...new Set(failed.events.map((e) => e.type))], ["stdout", "stderr", "exit"]);
  assert.match(failed.stderr, /ZeroDivisionError: division by zero/);
  // A cell whose results would all be dropped says nothing of them to a client that asked for none.
  const big = await exec(sb.id, "display('y' * (5 * 1024 * 1024))\nprint('done')");
  assert.equal(big.stderr, "");
  // The hosted docs' loop: every event but exit taken for output.
  for (const code of ["print('a')\n1 + 1", "1 / 0"]) {
    let out = "";
    let exit = -1;
    for await (const ev of sb.runCodeStream(code)) {
      if (ev.type === "exit") exit = ev.data;
      else out += ev.data;
    }
    assert.equal(typeof out, "string");
    assert.equal(exit, code === "1 / 0" ? 1 : 0, out);
    assert.match(out, code === "1 / 0" ? /ZeroDivisionError/ : /^a\n$/);
  }
  const kinds: string[] = [];
  for await (const ev of sb.runCodeStream("display(1)\n2", "python", { results: true })) kinds.push(ev.type);
  assert.deepEqual(kinds, ["result", "result", "exit"]);
});

test("ts: last expression, display(), `;` suppression, assignments, onResult, bash gives none", async () => {
  const sb = await sandbox();
  const r = await sb.runCode("x = 41\nx + 1");
  assert.equal(r.results.length, 1);
  assert.equal(r.results[0]!.isMainResult, true);
  assert.equal(r.results[0]!.text, "42");
  assert.equal(r.stdout, "");
  assert.deepEqual((await sb.runCode("y = 1")).results, []);
  assert.deepEqual((await sb.runCode("x + 1;")).results, []);
  const seen: Result[] = [];
  const d = await sb.runCode("display({'k': 1})\nprint('after')\nNone", "python", { onResult: (res) => seen.push(res) });
  assert.deepEqual(d.results.map((res) => [res.text, res.isMainResult]), [["{'k': 1}", false]]);
  assert.equal(seen.length, 1);
  assert.equal(d.stdout, "after\n");
  const html = await sb.runCode("class H:\n    def _repr_html_(self): return '<i>h</i>'\n    def _repr_markdown_(self): return '*h*'\nH()");
  assert.equal(html.results[0]!.html, "<i>h</i>");
  assert.equal(html.results[0]!.markdown, "*h*");
  assert.ok(html.results[0]!.text!.startsWith("<__main__.H object"));
  const b = await sb.runCode("echo 1", "bash");
  assert.deepEqual(b.results, []);
  assert.equal(b.error, undefined);
});

test("ts: an exception as data after its traceback on stderr; the REPL goes on", async () => {
  const sb = await sandbox();
  const r = await sb.runCode("def f():\n    return 1 / 0\nf()");
  assert.equal(r.exitCode, 1);
  assert.deepEqual([r.error?.name, r.error?.value], ["ZeroDivisionError", "division by zero"]);
  assert.equal(r.error?.traceback, r.stderr);
  assert.match(r.error!.traceback, /File "<exec>", line 3, in <module>/);
  const events = (await exec(sb.id, "print('x')\nraise ValueError('bad')", { results: true })).events.map((e) => e.type);
  assert.deepEqual(events.slice(-2), ["error", "exit"]);
  assert.equal(events.indexOf("stdout"), 0);
  assert.equal((await sb.runCode("print('alive')")).stdout, "alive\n");
});

test("datasci: a DataFrame gives text/html and text/plain; a matplotlib figure decodes as a PNG and is closed", async () => {
  const sb = await sandbox("python-datasci");
  const df = await sb.runCode("import pandas as pd\ndf = pd.DataFrame({'a': [1, 2], 'b': ['x', 'y']})\ndf", "python", { timeoutMs: 120_000 });
  assert.equal(df.exitCode, 0, df.stderr);
  assert.equal(df.results.length, 1);
  assert.match(df.results[0]!.html!, /<table[\s\S]*<td>x<\/td>/);
  assert.match(df.results[0]!.text!, /a\s+b\n0\s+1\s+x\n1\s+2\s+y/);
  const fig = await sb.runCode(
    "import matplotlib.pyplot as plt\nplt.figure(figsize=(4, 3), dpi=50)\nplt.plot([1, 2, 3], [3, 1, 2])\nprint('plotted')",
    "python",
    { timeoutMs: 120_000 },
  );
  assert.equal(fig.exitCode, 0, fig.stderr);
  assert.equal(fig.stdout, "plotted\n");
  const images = fig.results.filter((res) => res.png);
  assert.equal(images.length, 1, JSON.stringify(fig.results.map((res) => res.formats())));
  assert.equal(images[0]!.isMainResult, false);
  const { width, height } = pngSize(images[0]!.png!);
  // 4 x 3 inches at 50 dpi, trimmed a little by bbox_inches="tight".
  assert.ok(width > 100 && width <= 200 && height > 70 && height <= 150, `${width}x${height}`);
  const open = await sb.runCode("print(len(plt.get_fignums()))");
  assert.equal(open.stdout, "0\n");
  assert.deepEqual(open.results, []);
});

test("py: results, is_main_result, text/html/png getters, error, on_result", () => {
  const script = `
from podflare import Sandbox
with Sandbox() as sb:
    r = sb.run_code("print('p')\\ndisplay(7)\\n'last'")
    assert [(x.text, x.is_main_result) for x in r.results] == [("7", False), ("'last'", True)], r.results
    assert r.stdout == "p\\n" and r.error is None
    assert sb.run_code("z = 1").results == []
    assert sb.run_code("z;").results == []
    seen = []
    h = sb.run_code("class H:\\n    def _repr_html_(self): return '<b>h</b>'\\n    def _repr_png_(self): return b'PNG'\\nH()", on_result=seen.append)
    assert h.results[0].html == "<b>h</b>" and h.results[0].png == "UE5H", h.results
    assert seen == h.results
    e = sb.run_code("raise KeyError('k')")
    assert (e.error.name, e.error.value, e.exit_code) == ("KeyError", "'k'", 1), e.error
    assert e.error.traceback == e.stderr
    kinds = [ev.type for ev in sb.run_code_stream("display(1)\\n2", results=True)]
    assert kinds == ["result", "result", "exit"], kinds
    # The hosted docs' loop: every event but exit taken for output.
    for code in ("print('a')\\n1 + 1", "1/0"):
        out = ""
        for ev in sb.run_code_stream(code):
            if ev.type == "exit":
                code_seen = ev.code
            else:
                out += ev.data
        assert (code_seen, "ZeroDivisionError" in out) == ((1, True) if code == "1/0" else (0, False)), out
print("ok")
`;
  const r = runPythonSdk(script, hostdUrl());
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, "ok\n");
});
