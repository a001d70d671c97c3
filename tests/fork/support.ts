// Helpers for the fork tests: fork and merge through the REST API.
import assert from "node:assert/strict";
import { api } from "../support/api.js";

export interface ForkAnswer {
  children: string[];
  not_carried: string[];
  warnings: string[];
}

export async function fork(id: string, n: number, base?: string): Promise<ForkAnswer> {
  const res = await api("POST", `/v1/sandboxes/${id}/fork`, { n }, base);
  const body = (await res.json()) as ForkAnswer & { error?: string };
  assert.equal(res.status, 200, `fork failed: ${JSON.stringify(body)}`);
  assert.equal(body.children.length, n);
  return body;
}

export async function forkStatus(id: string, body: unknown): Promise<{ status: number; body: { error?: string; code?: string } }> {
  const res = await api("POST", `/v1/sandboxes/${id}/fork`, body);
  return { status: res.status, body: (await res.json()) as { error?: string; code?: string } };
}

export async function mergeInto(parent: string, winner: string): Promise<{ status: number; text: string }> {
  const res = await api("POST", `/v1/sandboxes/${parent}/merge_into/${winner}`);
  return { status: res.status, text: await res.text() };
}

/** Python source that tries signal 0 on every pid up to max and reports which answered. */
export function probeSignals(max = 4096): string {
  // A pid that answers signal 0 is ours when our /proc (this pid namespace's) shows it; one that
  // answered and is gone from /proc by the time we look is checked again: a process that
  // exited in between is not a foreign one.
  return `import os, json
foreign, denied = [], []
for p in range(1, ${max}):
    try:
        os.kill(p, 0)
    except PermissionError:
        denied.append(p)
        continue
    except ProcessLookupError:
        continue
    if os.path.exists(f'/proc/{p}'):
        continue
    try:
        os.kill(p, 0)
        foreign.append(p)
    except ProcessLookupError:
        pass
print(json.dumps({"foreign_ok": foreign, "denied": len(denied), "me": os.getpid()}))`;
}
