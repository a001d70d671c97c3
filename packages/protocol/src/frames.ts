// Host <-> guest kernel frames over the per-sandbox Unix socket.
//
// A frame is: u32 BE length of the rest | u32 BE header length | header (UTF-8 JSON) | body.
// The header says what the frame is; the body carries raw bytes (output, file data) so that
// binary data never goes through JSON. packages/guest/podflare_guest/frames.py mirrors this.

import type { FileEntry } from "./rest.js";
import type { SpaceManifest } from "./rest-spaces.js";
import type { ContextInfo } from "./rest.js";
import type { FsGuestFrame, FsHostFrame, ProcessGuestFrame, ProcessHostFrame } from "./frames-processes.js";

export const FRAME_MAX_BYTES = 8 * 1024 * 1024;
export const FILE_CHUNK_BYTES = 1024 * 1024;
export const GUEST_PROTOCOL_VERSION = 1;

/** Frames the host sends. `id` ties answers to their request. */
export type HostFrame =
  | { t: "exec"; id: number; lang: "python" | "bash"; code: string; env?: Record<string, string>; cwd?: string; ctx?: string; /** Enforced by the guest itself once this connection closes (hostd went away). */ timeout_ms?: number; /** false: no rich results or exception data are rendered or sent (the exec did not ask). */ results?: false }
  | { t: "interrupt"; id: number }
  | { t: "write_open"; id: number; path: string; mode?: number }
  | { t: "write_chunk"; id: number } // body: bytes
  | { t: "write_close"; id: number }
  | { t: "read"; id: number; path: string }
  | { t: "remove"; id: number; path: string }
  | { t: "ping"; id: number }
  /** Spaces: save the REPL namespace to `path` inside the sandbox, or load it back (then exit). */
  | { t: "space_save" | "space_load"; id: number; path: string }
  // Sent by jail/fork.py (host root), with SCM_RIGHTS descriptors on the same message: per
  // child its mnt, net, uts, ipc and cgroup namespaces and a listening socket. `files` maps
  // the kernel's open regular files (fd -> path inside the sandbox) for the children to reopen.
  // `fresh`: the warm pool's spawn from a pristine zygote, each child in a family of its own
  // (two more descriptors per child: the family's user and pid namespaces).
  | { t: "fork"; id: number; children: string[]; files?: Record<string, string>; fresh?: boolean }
  /**
   * Port proxy: connect to 127.0.0.1:port (else [::1]:port) inside the sandbox. After the
   * guest's `tcp_connected` the connection carries raw bytes both ways, no more frames.
   */
  | { t: "tcp_connect"; id: number; port: number }
  /** After hostd's kill_processes: wait for the kernel's dead children (zombies hold pids). */
  | { t: "reap"; id: number }
  /** REPL contexts: create (answer `context`), restart (`context`), delete (`done`), list (`contexts`). */
  | { t: "ctx_create"; id: number; ctx: string; cwd?: string }
  | { t: "ctx_restart"; id: number; ctx: string }
  | { t: "ctx_delete"; id: number; ctx: string }
  | { t: "ctx_list"; id: number }
  | ProcessHostFrame
  | FsHostFrame;

/** Frames the guest sends. */
export type GuestFrame =
  | { t: "hello"; version: number; pid: number; python: string }
  | { t: "out"; id: number; fd: 1 | 2 } // body: bytes, whole lines except possibly the last
  | { t: "exit"; id: number; code: number }
  | { t: "file"; id: number; kind: "file"; size: number; mode: number } // followed by data frames, then done
  | { t: "dir"; id: number; entries: FileEntry[] }
  | { t: "data"; id: number } // body: bytes
  | { t: "done"; id: number }
  | { t: "error"; id: number; code: GuestErrorCode; message: string }
  | { t: "pong"; id: number }
  | { t: "reaped"; id: number; count: number }
  | ({ t: "space"; id: number } & SpaceManifest)
  // The children's pids in the family pid namespace; `landlock` when they are scoped apart.
  | { t: "forked"; id: number; pids: number[]; landlock: boolean }
  // The answer to tcp_connect (else an `error` frame); raw bytes follow on this connection.
  | { t: "tcp_connected"; id: number }
  // A python exec's rich result (body: JSON {mime: text}), after the output printed before it;
  // `main` for the value of the cell's last expression.
  | { t: "result"; id: number; main: boolean }
  // A python exec's exception as data, after its traceback's stderr lines, before `exit`.
  | { t: "exc"; id: number; name: string; value: string; traceback: string }
  | { t: "context"; id: number; context: ContextInfo }
  | { t: "contexts"; id: number; contexts: ContextInfo[] }
  | ProcessGuestFrame
  | FsGuestFrame;

/** Errors the guest reports for file and exec requests; hostd maps them onto REST codes. */
export type GuestErrorCode =
  | "not_found"
  | "is_a_directory"
  | "not_a_directory"
  | "no_space"
  | "permission_denied"
  | "invalid_path"
  | "busy"
  | "io_error"
  // tcp_connect: nothing listens on the port / the connect did not complete in time.
  | "connection_refused"
  | "timed_out"
  // Processes and the filesystem API.
  | "process_not_found"
  | "process_limit"
  | "exists"
  | "not_empty"
  | "too_many_entries"
  // Files: a download of something that is not a regular file or directory (a device, FIFO,
  // socket); a file that reports no size (/proc) and holds more than the guest reads of one.
  | "not_regular"
  | "too_large";

export interface Frame<H> {
  header: H;
  body: Buffer;
}

export function encodeFrame(header: object, body: Buffer | Uint8Array = Buffer.alloc(0)): Buffer {
  const head = Buffer.from(JSON.stringify(header), "utf8");
  const total = 4 + head.length + body.length;
  if (total > FRAME_MAX_BYTES) throw new RangeError(`frame of ${total} bytes exceeds ${FRAME_MAX_BYTES}`);
  const out = Buffer.allocUnsafe(4 + total);
  out.writeUInt32BE(total, 0);
  out.writeUInt32BE(head.length, 4);
  head.copy(out, 8);
  Buffer.from(body.buffer, body.byteOffset, body.byteLength).copy(out, 8 + head.length);
  return out;
}

/**
 * Incremental decoder: feed socket chunks, get whole frames. Guest input is untrusted, so
 * oversize or malformed frames throw and the caller drops the connection.
 */
export class FrameDecoder<H = unknown> {
  private chunks: Buffer[] = [];
  private buffered = 0;

  /** Returns the whole frames buffered so far, at most `maxFrames` (the rest stays buffered). */
  push(chunk: Buffer, maxFrames = Infinity): Frame<H>[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const frames: Frame<H>[] = [];
    let buf = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.buffered);
    let off = 0;
    while (buf.length - off >= 4 && frames.length < maxFrames) {
      const total = buf.readUInt32BE(off);
      if (total > FRAME_MAX_BYTES || total < 4) throw new RangeError(`bad frame length ${total}`);
      if (buf.length - off - 4 < total) break;
      const headLen = buf.readUInt32BE(off + 4);
      if (headLen > total - 4) throw new RangeError(`bad frame header length ${headLen}`);
      const header = JSON.parse(buf.toString("utf8", off + 8, off + 8 + headLen)) as H;
      const body = buf.subarray(off + 8 + headLen, off + 4 + total);
      frames.push({ header, body });
      off += 4 + total;
    }
    buf = buf.subarray(off);
    this.chunks = buf.length ? [buf] : [];
    this.buffered = buf.length;
    return frames;
  }

  /** Takes the bytes not yet decoded (a connection that stops speaking frames reads them raw). */
  takeBuffered(): Buffer {
    const rest = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.buffered);
    this.chunks = [];
    this.buffered = 0;
    return rest;
  }
}
