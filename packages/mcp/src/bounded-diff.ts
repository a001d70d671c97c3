// diff with a bounded listing: the SDK's diff() collects each sandbox's whole listing, and a
// sandbox can make it any size (many files, or a replaced builtins.print). Over HTTP that
// would be hostd's memory; here each listing stops at MAX_LISTING_CHARS.
import { compareSnapshots, diffCode, SandboxRuntimeError, type DiffResult, type Sandbox, type Snapshot } from "podflare";
import { McpToolError } from "./tool-errors.js";

export const MAX_LISTING_CHARS = 32 * 1024 * 1024;

export async function boundedDiff(a: Sandbox, b: Sandbox, paths: readonly string[], maxChars = MAX_LISTING_CHARS): Promise<DiffResult> {
  const code = diffCode(paths);
  const [mine, theirs] = await Promise.all([listing(a, code, maxChars), listing(b, code, maxChars)]);
  return compareSnapshots(mine, theirs);
}

async function listing(sb: Sandbox, code: string, maxChars: number): Promise<Snapshot> {
  const out: string[] = [];
  let chars = 0;
  let stderr = "";
  let exitCode: number | undefined;
  // Leaving the loop early drops the exec's connection: hostd interrupts the helper.
  for await (const ev of sb.runCodeStream(code, "python")) {
    if (ev.type === "stdout") {
      chars += ev.data.length;
      if (chars > maxChars) {
        throw new McpToolError("payload_too_large", `the file listing of ${sb.id} is over ${maxChars} characters; diff fewer or smaller directories (argument paths)`);
      }
      out.push(ev.data);
    } else if (ev.type === "stderr") {
      stderr = (stderr + ev.data).slice(-500);
    } else if (ev.type === "exit") {
      exitCode = ev.data;
    }
  }
  const line = out.join("").trimEnd().split("\n").pop() ?? "";
  if (exitCode === 0) {
    try {
      return JSON.parse(line) as Snapshot;
    } catch {
      // reported below
    }
  }
  throw new SandboxRuntimeError(`diff helper failed in ${sb.id} (exit ${exitCode}): ${(stderr || line).slice(-500)}`);
}
