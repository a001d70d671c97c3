// Processes, PTY and filesystem calls through the TS SDK (issue 16 items 2–4): a background
// start until its exit is streamed, beside a bash exec of the same command; a PTY keystroke's
// echo round trip; fs.stat and fs.list. Not in the default list: `PODFLARE_BENCHES=procfs
// npm run bench`, or alone `node bench/procfs.mjs` with PODFLARE_HOSTD_URL set.
import { Sandbox } from "podflare";
import { knobs } from "./knobs.mjs";
import { printTable, summarize, time } from "./stats.mjs";

const runs = knobs.limitsRuns;
const row = (name, samples, baseline) => ({ name, stats: summarize(samples), samples, baseline });

async function startToExit(sb) {
  const p = await sb.processes.start("echo hi");
  for await (const ev of sb.processes.connect(p.pid)) if (ev.type === "exit") return;
}

async function keystrokeEcho(term, seen) {
  const ch = String.fromCharCode(97 + Math.floor(Math.random() * 26));
  const before = seen.text.length;
  await new Promise((resolve) => {
    seen.wake = () => {
      if (seen.text.slice(before).includes(ch)) resolve();
    };
    term.write(ch);
  });
}

export async function runProcfs() {
  const sb = await Sandbox.create();
  try {
    const exec = [];
    const proc = [];
    for (let i = 0; i < runs; i++) {
      exec.push(await time(() => sb.runCode("echo hi", "bash")));
      proc.push(await time(() => startToExit(sb)));
    }
    const term = await sb.pty.open({ cmd: "cat" });
    const seen = { text: "", wake: () => {} };
    term.onData((b) => {
      seen.text += b.toString("utf8");
      seen.wake();
    });
    const keys = [];
    for (let i = 0; i < runs; i++) keys.push(await time(() => keystrokeEcho(term, seen)));
    term.close();
    const stat = [];
    const list = [];
    for (let i = 0; i < runs; i++) {
      stat.push(await time(() => sb.fs.stat("/root")));
      list.push(await time(() => sb.fs.list("/etc")));
    }
    const base = { name: "bash exec of the same command", stats: summarize(exec), samples: exec };
    const rows = [
      row("process start → output streamed → exit", proc, base),
      row("PTY keystroke echo (WebSocket round trip)", keys),
      row("fs.stat", stat),
      row("fs.list /etc", list),
    ];
    printTable(`processes, PTY, filesystem (${runs} runs each)`, rows);
    return { rows: rows.map((r) => ({ name: r.name, stats: r.stats, samples: r.samples, baseline: r.baseline?.name ?? null })), baselines: [base] };
  } finally {
    await sb.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await runProcfs();
