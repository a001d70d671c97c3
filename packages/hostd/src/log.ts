// hostd's log: one JSON object per line on stderr (journald keeps it as is), the same shape for
// the request lines and for everything else hostd says. Fields are chosen by the caller: a key
// or a code body is never passed here (tests/security/log-secrets.test.ts).

export type LogLevel = "info" | "warn" | "error";

export type LogFields = Record<string, string | number | boolean | null | undefined>;

/** Called with a message like before (`log("re-adopted 2 sandboxes")`), or as `.event` with fields. */
export interface Logger {
  (msg: string): void;
  event(level: LogLevel, msg: string, fields?: LogFields): void;
}

/** WARNING… lines are warnings, internal errors are errors; the rest is information. */
function levelOf(msg: string): LogLevel {
  if (msg.startsWith("WARNING")) return "warn";
  if (msg.startsWith("internal error")) return "error";
  return "info";
}

export function jsonLogger(write: (line: string) => void = (line) => process.stderr.write(line)): Logger {
  const event = (level: LogLevel, msg: string, fields: LogFields = {}) => {
    const line: Record<string, unknown> = { ts: new Date().toISOString(), level, msg };
    for (const [k, v] of Object.entries(fields)) if (v !== undefined) line[k] = v;
    write(JSON.stringify(line) + "\n");
  };
  const log = ((msg: string) => event(levelOf(msg), msg)) as Logger;
  log.event = event;
  return log;
}
