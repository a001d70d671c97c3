// Wire shapes of the REST API, copied from packages/protocol/src/rest.ts (this package is
// published alone). tests/conformance/wire-types.test.ts fails to compile if they drift.
// Wire names are snake_case; the SDK surface (types.ts) is camelCase.

export type Language = "python" | "bash";

export type SandboxState = "creating" | "ready" | "paused" | "frozen" | "closed";

export interface CreateSandboxRequest {
  template?: string;
  persistent?: boolean;
  egress?: boolean;
  memory_mb?: number;
  disk_mb?: number;
  vcpus?: number;
  idle_timeout_s?: number;
  max_lifetime_s?: number;
  env?: Record<string, string>;
  metadata?: Record<string, string>;
  network?: NetworkPolicy;
  region?: string;
}

export interface NetworkPolicy {
  allow_out?: string[] | null;
  deny_out?: string[] | null;
}

export interface SetNetworkRequest extends NetworkPolicy {
  egress?: boolean;
}

export interface NetworkInfo {
  egress: boolean;
  address: string | null;
  allow_out: string[] | null;
  deny_out: string[];
}

export interface AppliedLimits {
  memory_mb: number;
  disk_mb: number;
  vcpus: number;
  idle_timeout_s: number;
  max_lifetime_s: number;
  egress: boolean;
  persistent: boolean;
}

export interface CreateSandboxResponse {
  id: string;
  state: "ready";
  template: string;
  applied: AppliedLimits;
  clamped: string[];
  warnings: string[];
}

export interface SandboxInfo {
  id: string;
  state: SandboxState;
  template: string;
  created_at: string;
  last_active_at: string;
  applied: AppliedLimits;
  metadata: Record<string, string>;
  parent_id: string | null;
  network: NetworkInfo;
}

export interface ListSandboxesResponse {
  sandboxes: SandboxInfo[];
}

export interface ExecRequest {
  code: string;
  language?: Language;
  timeout_ms?: number;
  env?: Record<string, string>;
  cwd?: string;
}

export interface FileEntry {
  name: string;
  type: "file" | "dir" | "symlink" | "other";
  size: number;
  mode: number;
  mtime_ms: number;
}

export interface DirListing {
  path: string;
  entries: FileEntry[];
}

/** Exit codes hostd itself gives (the program's own codes pass through untouched). */
export const ExitCode = {
  /** timeout_ms passed; the code was interrupted and the REPL kept its state. */
  Timeout: 124,
  /** The REPL was killed (ignored the interrupt, or ran out of memory) and restarted empty. */
  Killed: 137,
  /** The sandbox reached max_lifetime_s: the code was interrupted and the sandbox closed (or frozen). */
  Expired: 125,
} as const;

export interface SandboxMetrics {
  id: string;
  state: SandboxState;
  cpu_usec: number;
  memory_bytes: number;
  memory_limit_bytes: number;
  disk_bytes: number;
  disk_limit_bytes: number;
  pids: number;
  ts: number;
}
