// A sandbox record as the API shows it, and the error for an id that has none.
import { PodflareError, type SandboxInfo } from "@podflare/protocol";
import type { SandboxRecord } from "../store/store.js";

export function notFound(id: string): PodflareError {
  return new PodflareError("sandbox_not_found", `sandbox ${id} not found; it may have been closed or never existed`);
}

export function toInfo(r: SandboxRecord, address: string | null): SandboxInfo {
  const policy = r.network ?? { allow_out: null, deny_out: [] };
  return {
    id: r.id,
    state: r.state,
    template: r.template,
    created_at: new Date(r.createdAt).toISOString(),
    last_active_at: new Date(r.lastActiveAt).toISOString(),
    applied: r.applied,
    metadata: r.metadata,
    parent_id: r.parentId,
    network: {
      egress: r.applied.egress,
      address: r.applied.egress ? address : null,
      allow_out: policy.allow_out ?? null,
      deny_out: policy.deny_out ?? [],
    },
  };
}
