// A metadata store that is missing or empty while the storage pool still holds what it recorded.
//
// hostd's start removes what has no row in podflare.db (sandbox roots, Spaces): right after a
// crash that is half-made leftovers. But with the store itself gone (deleted as a "temp" file,
// an empty file put in its place, a disk swap) every Space and sandbox of every tenant has no
// row, and the start deleted them all; the keys were gone too, so on a loopback bind auth was
// off (found by an outside tester). So a start with a new store and a pool that is not empty is
// refused, saying how to restore or how to start over.
import fs from "node:fs";
import path from "node:path";
import type { StoragePool } from "./storage/index.js";

const STORE_FILE = "podflare.db";

/** True when the state dir has no metadata store yet (missing, or an empty file). */
export function storeIsNew(stateDir: string): boolean {
  try {
    return fs.statSync(path.join(stateDir, STORE_FILE)).size === 0;
  } catch {
    return true;
  }
}

/**
 * The refusal, or undefined when the pool holds nothing a store would have recorded. The store
 * this start made is closed and removed with it, so the next start sees it missing too.
 */
export async function refuseLostStore(stateDir: string, storage: StoragePool, closeStore: () => void): Promise<Error | undefined> {
  const spaces = (await storage.listSpaceRoots()).length;
  const sandboxes = (await storage.listSandboxRoots()).length;
  if (spaces === 0 && sandboxes === 0) return undefined;
  closeStore();
  for (const suffix of ["", "-wal", "-shm"]) fs.rmSync(path.join(stateDir, STORE_FILE + suffix), { force: true });
  return new Error(
    `${path.join(stateDir, STORE_FILE)} is missing or empty, but the storage pool still holds ${spaces} Space(s) and ` +
      `${sandboxes} sandbox root(s) it recorded: starting would delete them all (and the keys it held are gone). ` +
      `Restore ${STORE_FILE} (with its ${STORE_FILE}-wal file, if there was one) and start again; or, to start over ` +
      `and delete them, run \`podflare down --force\` and remove ${stateDir}`,
  );
}
