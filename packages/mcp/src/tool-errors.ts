// Every failure of a tool is a tool result with isError, never a thrown error: the MCP client
// shows it to the model, and the server keeps serving. The text is the REST API's envelope.
import { PodflareError } from "podflare";

export interface ToolErrorResult {
  [key: string]: unknown;
  isError: true;
  content: { type: "text"; text: string }[];
}

/** A failure the MCP server itself finds (bad arguments, a lost session sandbox). */
export class McpToolError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export function toolError(err: unknown): ToolErrorResult {
  let code = "internal";
  let message = err instanceof Error ? err.message : String(err);
  if (err instanceof PodflareError || err instanceof McpToolError) code = err.code;
  else if (err instanceof TypeError) code = "bad_request";
  if (message === "") message = code;
  return { isError: true, content: [{ type: "text", text: JSON.stringify({ error: message, code }) }] };
}
