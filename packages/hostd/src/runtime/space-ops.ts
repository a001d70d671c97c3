// Saving and loading a REPL namespace for Spaces, over the control connection like an exec.
import { PodflareError, type GuestFrame, type SpaceManifest } from "@podflare/protocol";
import { guestError } from "./files.js";
import { boundManifest } from "./space-manifest.js";
import { guestRequest } from "./guest-request.js";
import type { RuntimeSandbox } from "./types.js";

/** Where inside the sandbox the saved namespace lives, so the root snapshot carries it. */
export const SPACE_STATE_PATH = "/var/lib/podflare/space-state.pkl";

// What a failed save or load says is the end of its stderr: the guest is untrusted, and pickling
// runs the sandbox's own code (`__reduce__`), which can print without end.
const STDERR_TAIL_BYTES = 8 * 1024;

/** `closing`: the sandbox is being closed; the save is given up at once. */
export async function spaceOp(sb: RuntimeSandbox, op: "space_save" | "space_load", timeoutMs = 300_000, closing?: AbortSignal): Promise<SpaceManifest> {
  if (closing?.aborted) throw closedError(sb.id);
  const conn = await sb.control();
  return new Promise<SpaceManifest>((resolve, reject) => {
    let manifest: Record<string, unknown> | null = null;
    let failed: PodflareError | null = null;
    let stderr = Buffer.alloc(0);
    const done = () => {
      clearTimeout(timer);
      stopWatchingClose();
      closing?.removeEventListener("abort", onClosing);
      conn.release(id);
    };
    const onClosing = (): void => {
      done();
      reject(closedError(sb.id));
    };
    closing?.addEventListener("abort", onClosing);
    const timer = setTimeout(() => {
      done();
      reject(new PodflareError("exec_timeout", `saving the REPL state took over ${timeoutMs} ms`));
    }, timeoutMs);
    const id = conn.open((frame) => {
      const h = frame.header as GuestFrame;
      if (h.t === "space") {
        const { t: _t, id: _id, ...rest } = h;
        manifest = rest;
      } else if (h.t === "out") {
        const kept = Buffer.concat([stderr, frame.body.subarray(-STDERR_TAIL_BYTES)]);
        stderr = kept.subarray(-STDERR_TAIL_BYTES);
      }
      else if (h.t === "error") failed = guestError(h); // e.g. no_space (507) on a full disk
      else if (h.t === "exit") {
        done();
        if (failed) reject(failed);
        else if (manifest && h.code === 0) resolve(boundManifest(manifest));
        else reject(new PodflareError("runtime_error", `the guest kernel could not ${op === "space_save" ? "save" : "load"} the REPL state: ${stderr.toString("utf8").trim() || `exit ${h.code}`}`));
      }
    });
    const stopWatchingClose = conn.onClose(() => {
      clearTimeout(timer);
      reject(new PodflareError("runtime_error", "the REPL died while its state was being saved or loaded"));
    });
    conn.send({ t: op, id, path: SPACE_STATE_PATH });
  });
}

function closedError(id: string): PodflareError {
  return new PodflareError("sandbox_not_found", `sandbox ${id} was closed while its REPL state was being saved; nothing was frozen`);
}

/**
 * Removes the saved namespace from a sandbox whose freeze was refused or failed after the save:
 * it keeps running as it was, and the file (as big as its REPL's state) would count against
 * its disk_mb and its key's share of the pool. Best effort: a guest that does not answer keeps it.
 */
export async function dropSpaceState(sb: RuntimeSandbox, timeoutMs = 10_000): Promise<void> {
  try {
    await guestRequest(await sb.openConnection(), { t: "fs_remove", path: SPACE_STATE_PATH, recursive: false }, ["done"], timeoutMs);
  } catch {
    /* gone already, or the guest is not answering: the next freeze overwrites it */
  }
}
