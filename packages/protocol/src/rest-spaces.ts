// REST shapes of forks and Spaces (freeze a sandbox to disk, resume it later).
import type { CreateSandboxResponse } from "./rest.js";

/** Body of POST /v1/sandboxes/:id/fork. `n` defaults to 1, at most limits.maxForkChildren. */
export interface ForkRequest {
  n?: number;
}

/** Answer of POST /v1/sandboxes/:id/fork. */
export interface ForkResponse {
  /** The children's ids, each a ready sandbox with a copy of the parent's REPL and files. */
  children: string[];
  /** What a fork does not carry into the children, said instead of silently dropped. */
  not_carried: string[];
  warnings: string[];
}

/** A Space: one frozen sandbox (GET /v1/spaces/:id, POST /v1/sandboxes/:id/freeze). */
export interface SpaceInfo {
  space_id: string;
  source_id: string;
  template: string;
  created_at: string;
  reason: string;
  manifest: SpaceManifest;
  /** Disk the Space takes (what its sandbox wrote beyond the template), counted against the key's cap. */
  bytes: number;
}

export interface ListSpacesResponse {
  spaces: SpaceInfo[];
}

/** Body of POST /v1/spaces/:id/resume (optional); a hostd serves only its PODFLARE_REGION. */
export interface ResumeSpaceRequest {
  region?: string;
}

/** Answer of POST /v1/spaces/:id/resume: the new sandbox, and what came back into it. */
export interface ResumeSpaceResponse extends CreateSandboxResponse {
  space_id: string;
  restored: string[];
  /** Names and processes the freeze could not keep or this resume could not bring back. */
  not_restored: { name: string; reason: string }[];
}

/** What a Space save or load reports (the guest's `space` frame, before its `exit`). */
export interface SpaceManifest {
  serializer?: string;
  /** save: names written; load: names back in the REPL. */
  saved?: string[];
  restored?: string[];
  modules?: string[];
  /** Names that could not be kept, with why. */
  failed: { name: string; reason: string }[];
  /** save: other processes of the sandbox, which a Space does not carry. */
  processes?: string[];
}
