// Host <-> guest frames for background processes, PTYs and the filesystem API
// (packages/guest/podflare_guest/processes.py, fs_ops.py, watch.py). Each request goes on a
// connection of its own; connect, wait and watch keep theirs until the answer or a hang-up.
import type { FsEntry } from "./rest-fs.js";
import type { ProcessInfo } from "./rest-processes.js";

/** Which process: by pid, or by the tag it was started with (the newest such). */
export interface ProcessSelector {
  pid?: number;
  tag?: string;
}

export type ProcessHostFrame =
  | {
      t: "proc_start";
      id: number;
      cmd: string;
      /** Absent: `cmd` is a shell command line run by bash -c. */
      args?: string[] | null;
      env?: Record<string, string>;
      cwd?: string;
      tag?: string;
      stdin?: boolean;
      pty?: { rows: number; cols: number };
      max_running: number;
      buffer_bytes: number;
      /** Keep all output for the first `hold` reader, until it attaches or this long passes. */
      hold_ms?: number;
    }
  | { t: "proc_list"; id: number }
  | ({ t: "proc_info" | "proc_close_stdin" | "proc_wait"; id: number } & ProcessSelector)
  | ({ t: "proc_input"; id: number } & ProcessSelector) // body: bytes
  | ({ t: "proc_signal"; id: number; signal: number } & ProcessSelector)
  | ({ t: "proc_resize"; id: number; rows: number; cols: number } & ProcessSelector)
  // hold: while this reader is attached the process's output waits for it (never dropped).
  | ({ t: "proc_connect"; id: number; from?: "start" | "now"; hold?: boolean } & ProcessSelector);

export type ProcessGuestFrame =
  | { t: "proc_started"; id: number; process: ProcessInfo }
  | { t: "proc_list"; id: number; processes: ProcessInfo[] }
  | { t: "proc_info"; id: number; process: ProcessInfo }
  | { t: "proc_out"; id: number; stream: "stdout" | "stderr" | "pty" } // body: bytes
  | { t: "proc_exit"; id: number; exit_code: number; signal: string | null };

export type FsHostFrame =
  | { t: "fs_stat"; id: number; path: string }
  | { t: "fs_list"; id: number; path: string; depth: number; max_entries: number }
  | { t: "fs_mkdir"; id: number; path: string; parents: boolean }
  | { t: "fs_move"; id: number; path: string; to: string }
  | { t: "fs_remove"; id: number; path: string; recursive: boolean }
  | { t: "fs_watch"; id: number; path: string; recursive: boolean };

export type FsGuestFrame =
  | { t: "fs_entry"; id: number; entry: FsEntry }
  | { t: "fs_entries"; id: number; entries: FsEntry[] }
  | { t: "fs_watching"; id: number; path: string }
  | { t: "fs_event"; id: number; type: FsEventType; path: string; name: string; moved?: "from" | "to" };

export type FsEventType = "create" | "write" | "remove" | "rename" | "chmod" | "overflow";
