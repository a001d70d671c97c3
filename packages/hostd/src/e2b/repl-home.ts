// E2B's code interpreter starts in /home/user (home.ts); a sandbox's REPL starts in /root. Before
// the first runCode of a sandbox's default context, the REPL is moved there once for good (as a
// cell's os.chdir would be), not per call, so that a cell's own os.chdir still lasts as in Jupyter.
// The move is a statement that binds no name, and leaves a REPL that already left /root alone.
import type { ExecSink } from "../api/exec-routes.js";
import type { LocalApi } from "../api/local-api.js";
import { E2B_HOME } from "./home.js";

const MOVE = `if __import__("os").getcwd() == "/root":\n    __import__("os").makedirs(${JSON.stringify(E2B_HOME)}, exist_ok=True)\n    __import__("os").chdir(${JSON.stringify(E2B_HOME)})\n`;

// Forgetting a sandbox costs only a repeated no-op exec, so the memory is bounded.
const MAX_REMEMBERED = 10_000;

export class ReplHome {
  private readonly moved = new Set<string>();

  async ensure(api: LocalApi, key: string | undefined, sandboxId: string, signal: AbortSignal): Promise<void> {
    if (this.moved.has(sandboxId)) return;
    const sink: ExecSink = { event: () => {}, flow: { full: () => false, drained: () => Promise.resolve() }, signal };
    await api.exec(key, sandboxId, { code: MOVE, language: "python" }, sink);
    if (this.moved.size >= MAX_REMEMBERED) this.moved.delete(this.moved.values().next().value!);
    this.moved.add(sandboxId);
  }
}
