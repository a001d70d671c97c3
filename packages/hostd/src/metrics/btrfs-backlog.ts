// The btrfs cleaner's backlog: subvolumes deleted but not yet freed (`btrfs subvolume list -d`
// lists them until the cleaner thread has dropped them). A process start each: cached by callers.
import { run } from "../storage/host-command.js";

export async function deletedSubvolumes(poolRoot: string): Promise<number> {
  const r = await run("btrfs", ["subvolume", "list", "-d", poolRoot]);
  return r.stdout.split("\n").filter((l) => l.trim() !== "").length;
}
