// What the per-job modules (exec-stream, files, settings) need of a Sandbox: its transport
// and its id. The class keeps its lifecycle checks and hands this to them.

import type { HttpClient } from "./http.js";

export interface SandboxRef {
  readonly http: HttpClient;
  readonly id: string;
}

export const enc = encodeURIComponent;

/** `/v1/sandboxes/<id><suffix>`, the id escaped. */
export function sandboxPath(ref: SandboxRef, suffix: string): string {
  return `/v1/sandboxes/${enc(ref.id)}${suffix}`;
}
