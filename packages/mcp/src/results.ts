// Exec events → MCP tool content. Pure: unit-tested with sample events, and it already knows
// the rich events (`result`, `error`) the exec stream is gaining, so images reach the client
// as MCP image content the moment hostd sends them.

/** One exec event as it comes off the NDJSON stream; unknown types are ignored. */
export type ExecStreamEvent =
  | { type: "stdout" | "stderr"; data: string }
  | { type: "exit"; data: number }
  | { type: "result"; data: Record<string, unknown>; is_main_result?: boolean }
  | { type: "error"; name?: string; value?: string; traceback?: string | string[] }
  | { type: string; [key: string]: unknown };

export type ToolContent =
  | { type: "text"; text: string }
  | { type: "image"; data: string; mimeType: string };

/** What run_python/run_bash answer: Podflare's `{stdout, stderr, exit_code}` first, then rich results. */
export interface ExecToolResult {
  [key: string]: unknown;
  content: ToolContent[];
}

// Image types an MCP client can show; the first one a result carries wins.
const imageTypes = ["image/png", "image/jpeg", "image/gif", "image/webp"] as const;

/** Most characters of one stream an answer carries: the first half and the last half of it. */
export const MAX_STREAM_CHARS = 1024 * 1024;

/**
 * One output stream kept within `maxChars` while it streams: its head, its tail, and a count
 * of what was dropped between. Over HTTP the session lives in hostd, whose memory a sandbox
 * printing without end must not grow.
 */
export class BoundedText {
  #head = "";
  #tail: string[] = [];
  #tailChars = 0;
  #dropped = 0;
  readonly #headMax: number;
  readonly #tailMax: number;

  constructor(maxChars = MAX_STREAM_CHARS) {
    this.#headMax = Math.floor(maxChars / 2);
    this.#tailMax = maxChars - this.#headMax;
  }

  get droppedChars(): number {
    return this.#dropped;
  }

  push(text: string): void {
    if (this.#head.length < this.#headMax && this.#tailChars === 0) {
      const room = this.#headMax - this.#head.length;
      this.#head += text.slice(0, room);
      text = text.slice(room);
      if (text === "") return;
    }
    this.#tail.push(text);
    this.#tailChars += text.length;
    while (this.#tailChars > this.#tailMax) {
      const first = this.#tail[0]!;
      const over = this.#tailChars - this.#tailMax;
      if (first.length <= over) {
        this.#tail.shift();
        this.#tailChars -= first.length;
        this.#dropped += first.length;
      } else {
        this.#tail[0] = first.slice(over);
        this.#tailChars -= over;
        this.#dropped += over;
      }
    }
  }

  text(): string {
    const gap = this.#dropped > 0 ? `\n[… ${this.#dropped} characters dropped …]\n` : "";
    return this.#head + gap + this.#tail.join("");
  }
}

/**
 * Folds an exec's events, as they stream, into tool content: one text item with the JSON
 * summary `{sandbox_id, stdout, stderr, exit_code}` (plus `error` when Python raised, and
 * `stdout_dropped_chars`/`stderr_dropped_chars` past {@link MAX_STREAM_CHARS}), then, in order,
 * one item per rich result: an image when it carries one, else its `text/plain` as text.
 */
export class ExecAccumulator {
  readonly #stdout: BoundedText;
  readonly #stderr: BoundedText;
  #exitCode: number | null = null;
  #error: { name: string; value: string; traceback: string } | undefined;
  readonly #rich: ToolContent[] = [];

  constructor(maxStreamChars = MAX_STREAM_CHARS) {
    this.#stdout = new BoundedText(maxStreamChars);
    this.#stderr = new BoundedText(maxStreamChars);
  }

  push(ev: ExecStreamEvent): void {
    switch (ev.type) {
      case "stdout":
        if (typeof ev.data === "string") this.#stdout.push(ev.data);
        break;
      case "stderr":
        if (typeof ev.data === "string") this.#stderr.push(ev.data);
        break;
      case "exit":
        if (typeof ev.data === "number") this.#exitCode = ev.data;
        break;
      case "result": {
        const item = resultContent(ev.data);
        if (item) this.#rich.push(item);
        break;
      }
      case "error": {
        const tb = ev["traceback"];
        this.#error = {
          name: typeof ev["name"] === "string" ? ev["name"] : "Error",
          value: typeof ev["value"] === "string" ? ev["value"] : "",
          traceback: Array.isArray(tb) ? tb.join("\n") : typeof tb === "string" ? tb : "",
        };
        break;
      }
      default:
        break;
    }
  }

  result(sandboxId: string): ExecToolResult {
    const summary: Record<string, unknown> = {
      sandbox_id: sandboxId,
      stdout: this.#stdout.text(),
      stderr: this.#stderr.text(),
      exit_code: this.#exitCode,
    };
    if (this.#stdout.droppedChars > 0) summary["stdout_dropped_chars"] = this.#stdout.droppedChars;
    if (this.#stderr.droppedChars > 0) summary["stderr_dropped_chars"] = this.#stderr.droppedChars;
    if (this.#error) summary["error"] = this.#error;
    return { content: [{ type: "text", text: JSON.stringify(summary) }, ...this.#rich] };
  }
}

/** {@link ExecAccumulator} over a finished list of events. */
export function execToolResult(sandboxId: string, events: Iterable<ExecStreamEvent>, maxStreamChars = MAX_STREAM_CHARS): ExecToolResult {
  const acc = new ExecAccumulator(maxStreamChars);
  for (const ev of events) acc.push(ev);
  return acc.result(sandboxId);
}

/** One `result` event's MIME bundle → an image, else its plain text; nothing usable → undefined. */
export function resultContent(data: unknown): ToolContent | undefined {
  if (typeof data !== "object" || data === null) return undefined;
  const bundle = data as Record<string, unknown>;
  for (const mimeType of imageTypes) {
    const b64 = bundle[mimeType];
    if (typeof b64 === "string" && b64 !== "") return { type: "image", data: b64.replace(/\s+/g, ""), mimeType };
  }
  const text = bundle["text/plain"];
  if (typeof text === "string") return { type: "text", text };
  return undefined;
}
