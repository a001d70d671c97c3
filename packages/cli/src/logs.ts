// `podflare logs`: hostd's JSON log lines, from journald when hostd runs as the systemd service
// (journalctl -u podflare-hostd), or from a file hostd's stderr goes to (--file).
import { spawn } from "node:child_process";
import fs from "node:fs";
import { UNIT_NAME } from "./service.js";

export interface LogsArgs {
  follow: boolean;
  lines: number;
  file?: string;
}

export function parseLogsArgs(args: string[]): LogsArgs {
  const out: LogsArgs = { follow: false, lines: 100 };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "-f" || a === "--follow") out.follow = true;
    else if (a === "-n" || a === "--lines") {
      const n = Number(args[++i]);
      if (!Number.isInteger(n) || n < 0) throw new Error(`${a} needs a whole number of lines`);
      out.lines = n;
    } else if (a === "--file") {
      const f = args[++i];
      if (!f) throw new Error("--file needs a path");
      out.file = f;
    } else throw new Error(`unknown option ${a} for logs; use -f, -n N or --file PATH`);
  }
  return out;
}

/** The command that shows the log: journalctl for the unit, or tail for a file. */
export function logsCommandLine(a: LogsArgs): string[] {
  if (a.file) return ["tail", "-n", String(a.lines), ...(a.follow ? ["-F"] : []), a.file];
  // -o cat: the JSON line as hostd wrote it, without journald's own prefix.
  return ["journalctl", "-u", UNIT_NAME, "-o", "cat", "-n", String(a.lines), ...(a.follow ? ["-f"] : []), "--no-pager"];
}

export async function logsCommand(args: string[]): Promise<number> {
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
