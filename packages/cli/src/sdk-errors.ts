// How the client commands (ls, exec, rm, usage) print an SDK error: "<status>: <message>" for
// an answer from hostd, and how to start hostd when it cannot be reached.
import { ConnectionError, PodflareError } from "podflare";

export function describeSdkError(err: unknown): string | undefined {
  if (err instanceof ConnectionError) return `${err.message}; start it with \`npx podflare serve\``;
  if (err instanceof PodflareError && err.status > 0) return `${err.status}: ${err.message}`;
  return undefined;
}
