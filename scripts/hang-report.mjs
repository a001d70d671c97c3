// What a test run that has gone quiet is doing: every process under the runner with its state,
// kernel wait channel and command, and for each test file's process its threads' kernel stacks
// and open files. run-tests.mjs prints it when the suite has printed nothing for minutes, so a
// hang in CI shows where it waits (a pipe, epoll, a filesystem lock) instead of ending as a bare
// timeout. Linux only; kernel stacks need root.
import fs from "node:fs";

const MAX_STACK_FRAMES = 12;
const MAX_FDS = 40;

function read(path) {
  try {
    return fs.readFileSync(path, "utf8");
  } catch {
    return "";
  }
}

/** Fields of /proc/PID/stat after the command name (which may hold spaces and parentheses). */
function statFields(pid) {
  const text = read(`/proc/${pid}/stat`);
  return text ? text.slice(text.lastIndexOf(")") + 2).split(" ") : [];
}

/** State and parent from /proc/PID/stat. */
function procStat(pid) {
  const fields = statFields(pid);
  return { state: fields[0] ?? "?", ppid: Number(fields[1] ?? 0) };
}

/** The process's start time (clock ticks since boot), or undefined when it is gone: with the pid, it names one process. */
export function startTime(pid) {
  return statFields(pid)[19];
}

function cmdline(pid) {
  return read(`/proc/${pid}/cmdline`).split("\0").filter(Boolean).join(" ").replace(/\s+/g, " ").slice(0, 240);
}

/** rootPid and every process below it, parents before children. */
export function processTree(rootPid) {
  const children = new Map();
  for (const name of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const { ppid } = procStat(name);
    if (!children.has(ppid)) children.set(ppid, []);
    children.get(ppid).push(Number(name));
  }
  const out = [];
  const walk = (pid, depth) => {
    out.push({ pid, depth });
    for (const child of children.get(pid) ?? []) walk(child, depth + 1);
  };
  walk(rootPid, 0);
  return out;
}

function threadLines(pid) {
  const lines = [];
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    const t = `/proc/${pid}/task/${tid}`;
    lines.push(`    thread ${tid} ${read(`${t}/comm`).trim()} ${procStat(`${pid}/task/${tid}`).state} wchan=${read(`${t}/wchan`) || "-"}`);
    const frames = read(`${t}/stack`).trim().split("\n").filter(Boolean).slice(0, MAX_STACK_FRAMES);
    for (const f of frames) lines.push(`      ${f}`);
  }
  return lines;
}

function fdLines(pid) {
  const fds = (() => {
    try {
      return fs.readdirSync(`/proc/${pid}/fd`);
    } catch {
      return [];
    }
  })();
  const lines = [];
  fds.sort((a, b) => Number(a) - Number(b));
  for (const fd of fds.slice(0, MAX_FDS)) {
    let target = "?";
    try {
      target = fs.readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      /* closed meanwhile */
    }
    lines.push(`    fd ${fd} -> ${target}`);
  }
  if (fds.length > MAX_FDS) lines.push(`    … ${fds.length - MAX_FDS} more`);
  return lines;
}

/** The report, as text ending in a newline. */
export function hangReport(rootPid) {
  const lines = [`hang report: the processes of this test run (${new Date().toISOString()})`];
  for (const { pid, depth } of processTree(rootPid)) {
    const { state } = procStat(pid);
    const cmd = cmdline(pid);
    lines.push(`${"  ".repeat(depth)}${pid} ${state} wchan=${read(`/proc/${pid}/wchan`) || "-"} ${cmd}`);
    if (/\.test\.js\b/.test(cmd)) lines.push(...threadLines(pid), ...fdLines(pid));
  }
  return lines.map((l) => `# ${l}`).join("\n") + "\n";
}
