// REST shapes of background processes and PTYs (docs/api.md, "Processes" and "PTY").

/** POST /v1/sandboxes/:id/processes */
export interface StartProcessRequest {
  /** A program (with `args`), or a shell command line run by `bash -c` (without `args`). */
  cmd?: string;
  args?: string[];
  env?: Record<string, string>;
  cwd?: string;
  /** Only "root" today. */
  user?: string;
  /** A name to find the process by, unique among running processes. */
  tag?: string;
  /** Keep stdin open for POST .../stdin (default false: stdin is /dev/null). */
  stdin?: boolean;
  /** Run on a PTY of this size (cmd defaults to an interactive bash). */
  pty?: { rows: number; cols: number };
  /**
   * Lose no output to the first `?lossless=true` stream: all output waits for it (the process
   * blocks on a full pipe) until it attaches, or 10 s pass. Default false.
   */
  lossless?: boolean;
}

export interface ProcessInfo {
  pid: number;
  cmd: string;
  args: string[] | null;
  cwd: string;
  tag: string | null;
  pty: boolean;
  running: boolean;
  /** Set once exited; a process killed by a signal gets 128 + its number, as in a shell. */
  exit_code: number | null;
  signal: string | null;
  started_ms: number;
  stdin: boolean;
}

/** One line of GET /v1/sandboxes/:id/processes/:pid/stream (application/x-ndjson). */
export type ProcessEvent =
  | { type: "start"; process: ProcessInfo; seq: number; ts: number }
  | { type: "stdout" | "stderr" | "pty"; data: string; seq: number; ts: number }
  /** With ?encoding=base64. */
  | { type: "stdout" | "stderr" | "pty"; data_base64: string; seq: number; ts: number }
  | { type: "exit"; exit_code: number; signal: string | null; seq: number; ts: number };

/** Signal names POST .../signal takes (or their numbers). */
export const processSignals = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGKILL: 9,
  SIGUSR1: 10,
  SIGUSR2: 12,
  SIGTERM: 15,
  SIGCONT: 18,
  SIGSTOP: 19,
} as const;

export const processLimits = {
  /** Processes started through the API that may run at once in one sandbox. */
  maxRunning: 64,
  /** Recent output each process keeps for a late reader (stdout and stderr together). */
  bufferBytes: 256 * 1024,
  /** Largest single stdin write. */
  maxInputBytes: 1024 * 1024,
  /** PTY WebSocket: failed client messages answered before the session is closed (1008). */
  maxPtyFailedMessages: 8,
  /** Tags: letters, digits, `_.-`, not only digits (those are pids). */
  tagPattern: /^(?!\d+$)[A-Za-z0-9_.-]{1,64}$/,
} as const;
