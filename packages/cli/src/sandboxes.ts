// `podflare ls | exec | rm`, through the TypeScript SDK (PODFLARE_HOSTD_URL, PODFLARE_API_KEY).
import { Sandbox, type ExecEvent } from "podflare";
import { parseOrHelp, type CommandSpec } from "./args.js";
import { describeSdkError } from "./sdk-errors.js";
import { formatTable } from "./table.js";
import { TerminalSafe } from "./terminal-safe.js";

const lsSpec: CommandSpec = {
  usage: `usage: podflare ls

  Lists the caller's sandboxes (PODFLARE_API_KEY decides whose): id, state, template, memory, created.`,
};

const execSpec: CommandSpec = {
  usage: `usage: podflare exec [--bash] [--raw] ID CODE

  Runs CODE (one argument: quote it; several lines are fine) in sandbox ID, Python unless --bash.
  Prints its stdout and stderr as they come and, as a Python REPL does, the value of a bare last
  expression (and of display() calls) as text; exits with the code's exit status.
  On a terminal, escape sequences other than colours (a sandbox's OSC 52 would write your
  clipboard) and control characters are shown escaped; --raw prints them as they came.
  Put -- before CODE that starts with - (podflare exec ID -- '-1').`,
  options: [{ name: "--bash" }, { name: "--raw" }],
  positionals: ["ID", "CODE"],
};

const rmSpec: CommandSpec = {
  usage: `usage: podflare rm ID [ID...]

  Closes each sandbox given; reports each that fails (unknown id, no access) and goes on with the
  rest. Exits 1 if any failed.`,
  positionals: ["ID"],
  variadic: true,
};

export async function lsCommand(args: string[]): Promise<number> {
  if (!parseOrHelp(lsSpec, args)) return 0;
  const sandboxes = await Sandbox.listSandboxes();
  if (!sandboxes.length) {
    console.log("no sandboxes");
    return 0;
  }
  const rows = sandboxes.map((s) => [s.id, s.state, s.template, `${s.applied.memoryMb} MB`, s.createdAt]);
  for (const line of formatTable([["ID", "STATE", "TEMPLATE", "MEMORY", "CREATED"], ...rows])) console.log(line);
  return 0;
}

/** What the terminal shows of one exec event: output as it came, a result as its plain text. */
export function renderEvent(event: ExecEvent): { stream: "stdout" | "stderr"; text: string } | undefined {
  if (event.type === "stdout" || event.type === "stderr") return { stream: event.type, text: event.data };
  // The traceback of an `error` event is on stderr already; a result without text/plain (an
  // image alone) has nothing a terminal can show.
  if (event.type === "result" && event.data["text/plain"] !== undefined) return { stream: "stdout", text: `${event.data["text/plain"]}\n` };
  return undefined;
}

export async function execCommand(args: string[]): Promise<number> {
  const parsed = parseOrHelp(execSpec, args);
  if (!parsed) return 0;
  const [id, code] = parsed.positionals as [string, string];
  const sb = await Sandbox.connect(id);
  let exit = 0;
  const raw = parsed.has("--raw");
  // One filter per stream, each only on a terminal: piped output stays as it came.
  const filters = {
    stdout: !raw && process.stdout.isTTY ? new TerminalSafe() : undefined,
    stderr: !raw && process.stderr.isTTY ? new TerminalSafe() : undefined,
  };
  for await (const event of sb.runCodeStream(code, parsed.has("--bash") ? "bash" : "python", { results: true })) {
    if (event.type === "exit") exit = event.data;
    const out = renderEvent(event);
    if (out) (out.stream === "stdout" ? process.stdout : process.stderr).write(filters[out.stream]?.write(out.text) ?? out.text);
  }
  for (const [name, f] of Object.entries(filters)) if (f) (name === "stdout" ? process.stdout : process.stderr).write(f.end());
  return exit;
}

export async function rmCommand(args: string[]): Promise<number> {
  const parsed = parseOrHelp(rmSpec, args);
  if (!parsed) return 0;
  let failed = 0;
  for (const id of parsed.positionals) {
    try {
      // connect checks the id exists: an unknown one fails (404), where close() alone would
      // count a missing sandbox as closed.
      await (await Sandbox.connect(id)).close();
      console.log(`closed ${id}`);
    } catch (err) {
      failed++;
      console.error(`podflare rm ${id}: ${describeSdkError(err) ?? (err as Error).message}`);
    }
  }
  if (failed && parsed.positionals.length > 1) console.error(`podflare rm: ${failed} of ${parsed.positionals.length} failed`);
  return failed ? 1 : 0;
}
