// Checks the guest's rich results (untrusted input) and turns them into exec events, within
// limits.maxResultBytes per result and limits.maxResultBytesPerExec per exec. A result over
// a limit is dropped and said on stderr, so the exec itself goes on.
import { limits, type ExecErrorEvent, type ExecResultEvent } from "@podflare/protocol";

const MAX_ERROR_FIELD_CHARS = 1024 * 1024;

export class RichResults {
  private bytes = 0;
  private overExec = false;

  constructor(
    private readonly note: (text: string) => void,
    private readonly maxResultBytes: number = limits.maxResultBytes,
    private readonly maxExecBytes: number = limits.maxResultBytesPerExec,
  ) {}

  /** The event for a `result` frame's body (JSON {mime: text}), or undefined if dropped. */
  result(main: unknown, body: Buffer): ExecResultEvent | undefined {
    if (body.length > this.maxResultBytes) {
      this.note(`podflare: a display result of ${body.length} bytes exceeds the limit of ${this.maxResultBytes} bytes per result and was dropped; write it to a file and download that instead\n`);
      return undefined;
    }
    if (this.bytes + body.length > this.maxExecBytes) {
      if (!this.overExec) {
        this.overExec = true;
        this.note(`podflare: display results of this exec exceed ${this.maxExecBytes} bytes in total; later ones were dropped; show fewer or smaller results per exec, or write them to files\n`);
      }
      return undefined;
    }
    this.bytes += body.length;
    const data = parseBundle(body);
    if (!data) {
      this.note("podflare: the guest sent a malformed display result; it was dropped\n");
      return undefined;
    }
    return { type: "result", data, is_main_result: main === true };
  }

  /** The event for an `exc` frame: strings only, each bounded. */
  error(h: { name?: unknown; value?: unknown; traceback?: unknown }): ExecErrorEvent {
    return { type: "error", name: bounded(h.name), value: bounded(h.value), traceback: bounded(h.traceback) };
  }
}

function parseBundle(body: Buffer): Record<string, string> | undefined {
  let value: unknown;
  try {
    value = JSON.parse(body.toString("utf8"));
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
  const data: Record<string, string> = {};
  for (const [mime, text] of Object.entries(value)) {
    if (typeof text !== "string") return undefined;
    data[mime] = text;
  }
  return data;
}

function bounded(v: unknown): string {
  const s = typeof v === "string" ? v : "";
  return s.length > MAX_ERROR_FIELD_CHARS ? s.slice(0, MAX_ERROR_FIELD_CHARS) : s;
}
