// Calls that change which sandbox an id names: fork (new ids from one state), merge (an id
// takes a child's state) and freeze (the sandbox becomes a Space).

import { ProtocolError } from "./errors.js";
import { enc, sandboxPath, type SandboxRef } from "./sandbox-ref.js";

/** Forks `n` children; their ids. */
export async function forkChildren(ref: SandboxRef, n: number): Promise<string[]> {
  const res = await ref.http.json<{ children: string[] }>("POST", sandboxPath(ref, "/fork"), { json: { n } });
  if (!res || !Array.isArray(res.children)) throw new ProtocolError(`fork of ${ref.id} answered without children`);
  return res.children;
}

export async function mergeInto(ref: SandboxRef, winnerId: string): Promise<void> {
  await ref.http.request("POST", sandboxPath(ref, `/merge_into/${enc(winnerId)}`));
}

/** Freezes the sandbox; the Space id. */
export async function freezeToSpace(ref: SandboxRef): Promise<string> {
  const res = await ref.http.json<{ space_id: string }>("POST", sandboxPath(ref, "/freeze"));
  if (!res || typeof res.space_id !== "string") throw new ProtocolError(`freeze of ${ref.id} answered without space_id`);
  return res.space_id;
}
