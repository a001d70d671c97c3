// How the client commands (ls, exec, rm, usage) print an SDK error, as they did before they
// used the SDK: "<status>: <message>" for an answer from hostd (without the SDK's
// "[METHOD /path]" suffix: the user typed a command, not a request), and how to start hostd
// when it cannot be reached.
import { ConnectionError, HttpClient, PodflareError } from "podflare";

export function describeSdkError(err: unknown): string | undefined {
  if (err instanceof ConnectionError && /: cannot reach /.test(err.message)) {
    const cause = err.cause as NodeJS.ErrnoException | undefined;
    return `cannot reach hostd at ${new HttpClient().host} (${cause?.code ?? cause?.message ?? err.message}); start it with \`npx podflare serve\``;
  }
  if (err instanceof PodflareError && err.status > 0) return `${err.status}: ${err.message.replace(/ \[[A-Z]+ \/[^\]]*\]$/, "")}`;
  return undefined;
}
