// Our exec NDJSON events → the code interpreter's /execute NDJSON lines, exactly as
// @e2b/code-interpreter parses them (stdout/stderr `text`, `result` with one key per format,
// `error` {name, value, traceback}, then `end_of_execution`). Pure: no I/O, no clock.

/** One line of POST /v1/sandboxes/:id/exec, including the rich-result and error events. */
export interface OurEvent {
  type: string;
  data?: unknown;
  ts?: number;
  is_main_result?: boolean;
  name?: unknown;
  value?: unknown;
  traceback?: unknown;
}

export type E2bLine = Record<string, unknown>;

/** MIME type → the key the code interpreter's Result reads it from. */
const FORMAT_OF_MIME: Readonly<Record<string, string>> = {
  "text/plain": "text",
  "text/html": "html",
  "text/markdown": "markdown",
  "image/svg+xml": "svg",
  "image/png": "png",
  "image/jpeg": "jpeg",
  "application/pdf": "pdf",
  "text/latex": "latex",
  "application/json": "json",
  "application/javascript": "javascript",
};

// Exit codes hostd gives itself (protocol ExitCode), said as errors an agent can act on.
const HOSTD_EXITS: Readonly<Record<number, { name: string; value: string }>> = {
  124: { name: "TimeoutError", value: "the code ran past its time limit and was interrupted; the REPL kept its state" },
  125: { name: "SandboxExpired", value: "the sandbox reached its maximum lifetime and was closed; create a new one" },
  137: { name: "KernelRestarted", value: "the REPL was killed (out of memory, or it ignored the interrupt) and restarted empty" },
};

/** The notes hostd puts last on stderr when it kills or loses a REPL (runtime/exec.ts). */
const KILL_REASON = /^(MemoryError|TimeoutError|SandboxClosed|RuntimeError): (.*)$/;

const MAX_TAIL = 64 * 1024;

export class ExecuteTranslator {
  private sawError = false;
  private sawExit = false;
  private stderrTail = "";

  /** `nextCount`: the cell's number in its context, as Jupyter's execution_count (taken once, at the exit). */
  constructor(private readonly language: "python" | "bash", private readonly nextCount?: () => number) {}

  /** The E2B lines for one of our events (none for a type it does not know). */
  event(e: OurEvent): E2bLine[] {
    switch (e.type) {
      case "stdout":
      case "stderr": {
        const text = typeof e.data === "string" ? e.data : String(e.data ?? "");
        if (e.type === "stderr") this.stderrTail = (this.stderrTail + text).slice(-MAX_TAIL);
        // E2B timestamps are microseconds.
        return [{ type: e.type, text, timestamp: (e.ts ?? 0) * 1000 }];
      }
      case "result":
        return [resultLine(e)];
      case "error":
        this.sawError = true;
        return [{ type: "error", name: str(e.name), value: str(e.value), traceback: traceback(e.traceback) }];
      case "exit": {
        this.sawExit = true;
        const code = typeof e.data === "number" ? e.data : Number(e.data);
        const lines: E2bLine[] = [];
        if (code !== 0 && !this.sawError) lines.push(this.errorFromExit(code));
        if (this.nextCount) lines.push({ type: "number_of_executions", execution_count: this.nextCount() });
        lines.push({ type: "end_of_execution" });
        return lines;
      }
      default:
        return [];
    }
  }

  /** The exit event has been translated: nothing follows it. */
  get ended(): boolean {
    return this.sawExit;
  }

  /** Lines after the last event: a stream that ended without `exit` was cut short. */
  end(): E2bLine[] {
    return this.sawExit ? [] : [{ type: "unexpected_end_of_execution" }];
  }

  /**
   * A failure our REPL reported only by its exit code and stderr (no `error` event): the
   * traceback's last line "Name: value" gives the name and value, as Jupyter would.
   */
  private errorFromExit(code: number): E2bLine {
    // A killed REPL: hostd's last stderr line says why (out of memory, a timeout, the sandbox closed).
    const said = code === 137 ? KILL_REASON.exec(this.stderrTail.trimEnd().split("\n").pop() ?? "") : null;
    if (said) return { type: "error", name: said[1]!, value: said[2]!, traceback: this.stderrTail };
    const known = HOSTD_EXITS[code];
    if (known) return { type: "error", ...known, traceback: this.stderrTail };
    if (this.language === "bash") return { type: "error", name: "CommandExitError", value: `exit status ${code}`, traceback: this.stderrTail };
    const last = this.stderrTail.trimEnd().split("\n").pop() ?? "";
    const m = /^([A-Za-z_][\w.]*)(?::\s?(.*))?$/.exec(last);
    if (m && /(Error|Exception|Exit|Interrupt|Warning)$/.test(m[1]!)) {
      return { type: "error", name: m[1]!.split(".").pop(), value: m[2] ?? "", traceback: this.stderrTail };
    }
    return { type: "error", name: "SystemExit", value: String(code), traceback: this.stderrTail };
  }
}

function resultLine(e: OurEvent): E2bLine {
  const line: E2bLine = { type: "result", is_main_result: e.is_main_result === true };
  const bundle = (typeof e.data === "object" && e.data !== null ? e.data : {}) as Record<string, unknown>;
  for (const [mime, value] of Object.entries(bundle)) {
    const key = FORMAT_OF_MIME[mime] ?? mime;
    if (key === "type" || key === "is_main_result") continue;
    line[key] = value;
  }
  return line;
}

function str(v: unknown): string {
  return typeof v === "string" ? v : v === undefined || v === null ? "" : String(v);
}

/** E2B's traceback is one string; ours may come as a list of lines. */
function traceback(v: unknown): string {
  if (Array.isArray(v)) {
    const lines = v.map(str);
    return lines.join(lines.every((l) => l.endsWith("\n")) ? "" : "\n");
  }
  return str(v);
}
