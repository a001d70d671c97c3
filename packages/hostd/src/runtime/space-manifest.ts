// A Space's manifest as hostd keeps it. It comes from the guest kernel, which the sandbox's own
// code can change, and names come from the REPL's globals: seven names of a million characters
// each made a 7 MB manifest per Space, a 133 MB metadata store and a 133 MB GET /v1/spaces that
// stalled hostd for every tenant (outside tester tk). So each list keeps MAX_ENTRIES entries (the
// rest counted in one last entry), names and reasons are clipped, and anything not of the
// expected shape is dropped.
import type { SpaceManifest } from "@podflare/protocol";

export const MAX_ENTRIES = 100;
export const MAX_NAME_CHARS = 100;
export const MAX_REASON_CHARS = 300;

function clip(s: string, max: number): string {
  return s.length > max ? `${s.slice(0, max)}… (${s.length} characters)` : s;
}

function names(v: unknown): string[] | undefined {
  if (!Array.isArray(v)) return undefined;
  const all = v.filter((x): x is string => typeof x === "string");
  const kept = all.slice(0, MAX_ENTRIES).map((n) => clip(n, MAX_NAME_CHARS));
  if (all.length > MAX_ENTRIES) kept.push(`… and ${all.length - MAX_ENTRIES} more`);
  return kept;
}

function failures(v: unknown): { name: string; reason: string }[] {
  if (!Array.isArray(v)) return [];
  const all = v.filter((x): x is { name: string; reason: string } => typeof x === "object" && x !== null && typeof (x as { name?: unknown }).name === "string" && typeof (x as { reason?: unknown }).reason === "string");
  const kept = all.slice(0, MAX_ENTRIES).map((f) => ({ name: clip(f.name, MAX_NAME_CHARS), reason: clip(f.reason, MAX_REASON_CHARS) }));
  if (all.length > MAX_ENTRIES) kept.push({ name: `… and ${all.length - MAX_ENTRIES} more`, reason: "not listed: a manifest names at most 100" });
  return kept;
}

/** The guest's manifest (save or load), bounded and of the protocol's shape. */
export function boundManifest(raw: Record<string, unknown>): SpaceManifest {
  const out: SpaceManifest = { failed: failures(raw.failed) };
  if (typeof raw.serializer === "string") out.serializer = clip(raw.serializer, MAX_NAME_CHARS);
  for (const key of ["saved", "restored", "modules", "processes"] as const) {
    const list = names(raw[key]);
    if (list) out[key] = list;
  }
  return out;
}
