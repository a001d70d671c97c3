// What the commands that only read a state dir (keys ls, keys revoke, template ls) say when it
// holds nothing yet. They never create one: a typo in PODFLARE_STATE_DIR must not leave a new
// database or mount a new storage pool behind (docs/operations.md, "The CLI").
import fs from "node:fs";
import path from "node:path";

/** "/x (PODFLARE_STATE_DIR=/x)" or "/var/lib/podflare (PODFLARE_STATE_DIR unset: the default)". */
export function stateDirLabel(stateDir: string, env: NodeJS.ProcessEnv = process.env): string {
  return env.PODFLARE_STATE_DIR ? `${stateDir} (PODFLARE_STATE_DIR=${env.PODFLARE_STATE_DIR})` : `${stateDir} (PODFLARE_STATE_DIR unset: the default)`;
}

export const STORE_FILE = "podflare.db";

/** Why the metadata store cannot be read, or undefined when it exists. */
export function missingStore(stateDir: string): string | undefined {
  if (fs.existsSync(path.join(stateDir, STORE_FILE))) return undefined;
  const where = fs.existsSync(stateDir) ? `the state dir ${stateDirLabel(stateDir)} has no ${STORE_FILE}` : `the state dir ${stateDirLabel(stateDir)} does not exist`;
  return `${where}, so it has no keys; nothing was created. Check PODFLARE_STATE_DIR; hostd makes the store on its first start, \`podflare keys create\` too`;
}
