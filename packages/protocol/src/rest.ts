// REST shapes of the Podflare v1 API plus our extensions (DESIGN.md section 6).
// Wire names are snake_case, as the hosted service uses; the SDKs map them to their own style.

export type Language = "python" | "bash";
export const languages: readonly Language[] = ["python", "bash"];

export type SandboxState = "creating" | "ready" | "paused" | "frozen" | "closed";

/** Body of POST /v1/sandboxes. Every field is optional. */
export interface CreateSandboxRequest {
  template?: string;
  persistent?: boolean;
  egress?: boolean;
  memory_mb?: number;
  disk_mb?: number;
  vcpus?: number;
  idle_timeout_s?: number;
  max_lifetime_s?: number;
  /**
   * When the sandbox ends, in seconds after its creation, whatever runs in it (E2B's `timeout`):
   * at most max_lifetime_s (lowered to it, and named in `clamped`). Absent: max_lifetime_s.
   */
  lifetime_s?: number;
  env?: Record<string, string>;
  metadata?: Record<string, string>;
  /** Egress policy (needs egress): IPv4 CIDRs or domain names; deny_out wins. */
  network?: NetworkPolicy;
  /** Region to create in (also POST /v1/spaces/:id/resume); a hostd serves only its PODFLARE_REGION. */
  region?: string;
}

/** Egress policy. Without allow_out (or null) everything not denied is allowed. */
export interface NetworkPolicy {
  allow_out?: string[] | null;
  deny_out?: string[] | null;
}

/** Body of PUT /v1/sandboxes/:id/network: the new policy, and optionally egress on or off. */
export interface SetNetworkRequest extends NetworkPolicy {
  egress?: boolean;
}

/** A sandbox's network as it is now. */
export interface NetworkInfo {
  egress: boolean;
  /** IPv4 address inside the sandbox (eth0), null without egress. */
  address: string | null;
  allow_out: string[] | null;
  deny_out: string[];
}

/** The limits a sandbox actually runs with, after defaults and tier caps. */
export interface AppliedLimits {
  memory_mb: number;
  disk_mb: number;
  vcpus: number;
  idle_timeout_s: number;
  max_lifetime_s: number;
  /** Set by a create or POST …/timeout: the sandbox ends this long after its creation (≤ max_lifetime_s). */
  lifetime_s?: number;
  egress: boolean;
  persistent: boolean;
}

export interface CreateSandboxResponse {
  id: string;
  state: "ready";
  template: string;
  applied: AppliedLimits;
  /** Names of request fields that were lowered to a cap. */
  clamped: string[];
  /** Things asked for that this host does not provide yet, said instead of silently ignored. */
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
  /** The key (owner) the sandbox belongs to: only in an admin's `GET /v1/sandboxes?all=true`. */
  owner?: string;
}

export interface ListSandboxesResponse {
  sandboxes: SandboxInfo[];
}

/** Body of POST /v1/sandboxes/:id/exec. */
export interface ExecRequest {
  code: string;
  language?: Language;
  timeout_ms?: number;
  env?: Record<string, string>;
  cwd?: string;
  /** The REPL context to run in (POST …/contexts); default: the sandbox's default context. */
  context_id?: string;
  /**
   * Also stream python's rich results and exception data (`result` and `error` events, docs/api.md
   * "Rich results"). Default false: only `stdout`, `stderr` and `exit`, the hosted API's events.
   */
  results?: boolean;
}

/** A REPL context: its own `__main__` namespace and, if given, the directory its cells start in. */
export interface ContextInfo {
  id: string;
  language: "python";
  cwd: string | null;
}

/** Body of POST /v1/sandboxes/:id/contexts. */
export interface CreateContextRequest {
  cwd?: string;
}

export interface ListContextsResponse {
  contexts: ContextInfo[];
}

/** One NDJSON line of an exec answer. `seq` is monotonic per call, `ts` is epoch ms. */
export type ExecEvent =
  | { type: "stdout" | "stderr"; data: string; seq: number; ts: number }
  | { type: "exit"; data: number; seq: number; ts: number }
  | ({ seq: number; ts: number } & ExecResultEvent)
  | ({ seq: number; ts: number } & ExecErrorEvent);

/**
 * A rich result of a python exec, as Jupyter shows it: a MIME bundle (`text/plain` always;
 * `image/png` and other binary types in base64). `is_main_result` for the value of the cell's
 * last expression; false for display() and matplotlib figures.
 */
export interface ExecResultEvent {
  type: "result";
  data: Record<string, string>;
  is_main_result: boolean;
}

/** A python exec's exception as data, after its traceback's stderr lines. */
export interface ExecErrorEvent {
  type: "error";
  name: string;
  value: string;
  traceback: string;
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

/** One entry of a directory listing from GET /v1/sandboxes/:id/files. */
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

/** Body of POST /v1/sandboxes/:id/timeout: either or both. */
export interface SetIdleTimeoutRequest {
  idle_timeout_s?: number;
  /** Seconds after the sandbox's creation when it ends (moved either way, never past max_lifetime_s). */
  lifetime_s?: number;
}

/** Answer of POST /v1/sandboxes/:id/timeout: what applies after the caps. */
export interface SetIdleTimeoutResponse {
  idle_timeout_s: number;
  lifetime_s?: number;
  clamped: string[];
}

/** Answer of POST /v1/sandboxes/:id/kill_processes: how many processes were killed. */
export interface KillProcessesResponse {
  killed: number;
}

export const limits = {
  /** Largest upload through PUT /files. */
  maxUploadBytes: 1024 * 1024 * 1024,
  /** Largest exec code body. */
  /** Largest exec code body; it travels in one guest frame (8 MiB), JSON-escaped. */
  maxCodeBytes: 4 * 1024 * 1024,
  /** Largest JSON request body other than uploads. */
  maxJsonBytes: 17 * 1024 * 1024,
  maxForkChildren: 32,
  /** Largest rich result event's data (JSON); a larger one is dropped with a stderr line. */
  maxResultBytes: 4 * 1024 * 1024,
  /** Largest total of rich result data in one exec; later results are dropped likewise. */
  maxResultBytesPerExec: 16 * 1024 * 1024,
  /** REPL contexts per sandbox, the default one included. */
  maxContexts: 32,
  /** `metadata` of a create: at most this many keys, and this many bytes of keys and values (UTF-8). */
  maxMetadataKeys: 64,
  maxMetadataBytes: 16 * 1024,
  /** `env` of a create, an exec or a process: at most this many variables, and bytes of names and values. */
  maxEnvVars: 256,
  maxEnvBytes: 256 * 1024,
  /**
   * Execs waiting behind the running one in one sandbox, and the bytes of code and env they hold
   * together; one more past either is 429 `exec_queue_full`. (The hosted API queues concurrent
   * calls: an agent's 24 parallel runCode calls must all run, while one sandbox's queue still
   * makes hostd hold at most 16 MiB.)
   */
  maxQueuedExecs: 128,
  maxQueuedExecBytes: 16 * 1024 * 1024,
  /** Interim (1xx) answers the port proxy takes for one request before it answers 502 `upstream_error`. */
  maxProxyInterimAnswers: 8,
} as const;

/** Sandbox ids are `sbx_` and 32 lowercase hex digits. */
export const sandboxIdPattern = /^sbx_[0-9a-f]{32}$/;

/** GET /v1/sandboxes/:id/metrics: what the sandbox uses now, read from its cgroup and its disk. */
export interface SandboxMetrics {
  id: string;
  state: SandboxState;
  /** CPU time used since the sandbox started, in microseconds (all its processes). */
  cpu_usec: number;
  /** Memory charged to the sandbox now (page cache included), and its limit. */
  memory_bytes: number;
  memory_limit_bytes: number;
  /** Bytes its root filesystem takes (btrfs: the quota group), and its cap. */
  disk_bytes: number;
  disk_limit_bytes: number;
  /** Tasks (threads included) counted against the pids limit. */
  pids: number;
  /** When this was read, epoch ms. */
  ts: number;
}
