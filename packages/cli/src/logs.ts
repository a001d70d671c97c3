// `podflare logs`: hostd's JSON log lines, from journald when hostd runs as the systemd service
// (journalctl -u podflare-hostd), or from a file hostd's stderr goes to (--file).
import { spawn } from "node:child_process";
import fs from "node:fs";
import { UNIT_NAME } from "./service.js";
import { parseCommand, UsageError, wantsHelp, type CommandSpec } from "./args.js";

const logsSpec: CommandSpec = {
  usage: `usage: podflare logs [-f|--follow] [-n|--lines N] [--file PATH]

  hostd's JSON log lines: the last N (default 100) from journald (journalctl -u ${UNIT_NAME}),
  or from PATH, the file hostd's stderr goes to; -f keeps following.`,
  options: [
    { name: "--follow", short: "-f" },
    { name: "--lines", short: "-n", value: "N" },
    { name: "--file", value: "PATH" },
  ],
};

export interface LogsArgs {
  follow: boolean;
  lines: number;
  file?: string;
}

/** Throws UsageError (exit 2) for an unknown option or a bad value. */
export function parseLogsArgs(args: string[]): LogsArgs {
  const p = parseCommand(logsSpec, args);
  const out: LogsArgs = { follow: p.has("--follow"), lines: 100 };
  const lines = p.value("--lines");
  if (lines !== undefined) {
    const n = Number(lines);
    if (lines.trim() === "" || !Number.isInteger(n) || n < 0) throw new UsageError(`--lines needs a whole number of lines, got ${JSON.stringify(lines)}`, logsSpec.usage);
    out.lines = n;
  }
  const file = p.value("--file");
  if (file !== undefined) out.file = file;
  return out;
}

/** The command that shows the log: journalctl for the unit, or tail for a file. */
export function logsCommandLine(a: LogsArgs): string[] {
  if (a.file) return ["tail", "-n", String(a.lines), ...(a.follow ? ["-F"] : []), a.file];
  // -o cat: the JSON line as hostd wrote it, without journald's own prefix.
  return ["journalctl", "-u", UNIT_NAME, "-o", "cat", "-n", String(a.lines), ...(a.follow ? ["-f"] : []), "--no-pager"];
}

export async function logsCommand(args: string[]): Promise<number> {
  if (wantsHelp(args)) {
    console.log(logsSpec.usage);
    return 0;
  }
  const a = parseLogsArgs(args);
  if (!a.file && !fs.existsSync("/run/systemd/system")) {
    console.error(
      "podflare logs: systemd is not running here, so hostd's log is not in journald. hostd writes JSON lines to its stderr: " +
        "run `podflare serve 2>>/var/log/podflare-hostd.log` and read it with `podflare logs --file /var/log/podflare-hostd.log`",
    );
    return 1;
  }
  const [cmd, ...rest] = logsCommandLine(a);
  const child = spawn(cmd!, rest, { stdio: "inherit" });
  return new Promise((resolve) => {
    child.on("error", (err) => {
      console.error(`podflare logs: cannot run ${cmd}: ${err.message}`);
      resolve(1);
    });
    child.on("close", (code) => resolve(code ?? 1));
  });
}
