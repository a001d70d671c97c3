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

/**
 * Folds an exec's events into tool content: one text item with the JSON summary
 * `{sandbox_id, stdout, stderr, exit_code}` (plus `error` when Python raised), then, in order,
 * one item per rich result: an image when it carries one, else its `text/plain` as text.
 */
export function execToolResult(sandboxId: string, events: Iterable<ExecStreamEvent>): ExecToolResult {
  const stdout: string[] = [];
  const stderr: string[] = [];
  let exitCode: number | null = null;
  let error: { name: string; value: string; traceback: string } | undefined;
  const rich: ToolContent[] = [];
  for (const ev of events) {
    switch (ev.type) {
      case "stdout":
        if (typeof ev.data === "string") stdout.push(ev.data);
        break;
      case "stderr":
        if (typeof ev.data === "string") stderr.push(ev.data);
        break;
      case "exit":
        if (typeof ev.data === "number") exitCode = ev.data;
        break;
      case "result": {
        const item = resultContent(ev.data);
        if (item) rich.push(item);
        break;
      }
      case "error": {
        const tb = ev["traceback"];
        error = {
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
  const summary: Record<string, unknown> = { sandbox_id: sandboxId, stdout: stdout.join(""), stderr: stderr.join(""), exit_code: exitCode };
  if (error) summary["error"] = error;
  return { content: [{ type: "text", text: JSON.stringify(summary) }, ...rich] };
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
