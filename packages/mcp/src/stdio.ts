// `podflare mcp`: one MCP session over stdin/stdout. The session (and its sandbox) ends when
// the client closes stdin, or on SIGINT/SIGTERM.
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { createMcpServer } from "./server.js";
import { SandboxSession } from "./session.js";

/** Serves MCP on stdio until the client goes away; resolves once the session's sandboxes are closed. */
export async function runStdio(log: (msg: string) => void = (m) => process.stderr.write(`${m}\n`)): Promise<void> {
  // Host and key from PODFLARE_HOSTD_URL / PODFLARE_HOST and PODFLARE_API_KEY, as the SDK reads them.
  const session = new SandboxSession({ connection: {}, log });
  const server = createMcpServer(session);
  const transport = new StdioServerTransport();
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => (resolveDone = r));
  let ending = false;
  const end = (why: string): void => {
    if (ending) return;
    ending = true;
    log(`podflare mcp: ${why}; closing the session's sandboxes`);
    void session
      .end()
      .catch((err: Error) => log(`podflare mcp: ${err.message}`))
      .finally(() => void server.close().finally(resolveDone));
  };
  process.stdin.once("end", () => end("stdin closed"));
  process.once("SIGINT", () => end("SIGINT"));
  process.once("SIGTERM", () => end("SIGTERM"));
  await server.connect(transport);
  await done;
}
