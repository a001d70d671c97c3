// File transfers through the guest kernel. The guest resolves paths inside the sandbox's own
// mount namespace, so `..` and symlinks can never reach a host file; hostd never opens a path
// inside a sandbox root itself.
import { FILE_CHUNK_BYTES, PodflareError, type GuestErrorCode, type GuestFrame, type HostFrame } from "@podflare/protocol";
import type { Readable, Writable } from "node:stream";
import type { GuestConnection } from "./guest-connection.js";
import type { RuntimeSandbox } from "./types.js";

const guestErrorCodes: Record<GuestErrorCode, ConstructorParameters<typeof PodflareError>[0]> = {
  not_found: "file_not_found",
  is_a_directory: "is_a_directory",
  not_a_directory: "not_a_directory",
  no_space: "no_space",
  permission_denied: "forbidden",
  invalid_path: "invalid_path",
  busy: "conflict",
  io_error: "runtime_error",
  connection_refused: "port_not_listening",
  timed_out: "upstream_timeout",
};

function guestError(h: Extract<GuestFrame, { t: "error" }>): PodflareError {
  const code = guestErrorCodes[h.code] ?? "runtime_error";
  const hint = code === "no_space" ? " Free space in the sandbox or create it with a larger disk_mb." : "";
  return new PodflareError(code, hint ? h.message.replace(/\.?$/, ".") + hint : h.message);
}

function lostConnection(): PodflareError {
  return new PodflareError("runtime_error", "the sandbox's guest kernel went away during the transfer; try again");
}

/**
 * Streams `body` into `path` inside the sandbox; the file appears only when complete. Reads
 * the body only as fast as the guest takes it. Once the transfer has settled (done, error,
 * connection gone) nothing more is read from the body or sent to the guest: the caller answers
 * and closes the request (api/http.ts).
 */
export async function uploadFile(sb: RuntimeSandbox, path: string, body: Readable, maxBytes: number): Promise<void> {
  const conn = await sb.openConnection();
  try {
    await new Promise<void>((resolve, reject) => {
      let settled = false;
      let ended = false;
      const settle = (err?: PodflareError) => {
        if (settled) return;
        settled = true;
        body.off("data", onData);
        body.off("end", onEnd);
        body.off("error", onError);
        body.pause();
        if (err) reject(err);
        else resolve();
      };
      // Sends unless settled; a connection that closed under us settles the transfer.
      const send = (header: HostFrame, chunk?: Buffer): boolean => {
        if (settled) return true;
        try {
          return conn.send(header, chunk);
        } catch {
          settle(lostConnection());
          return true;
        }
      };
      const id = conn.open((frame) => {
        const h = frame.header as GuestFrame;
        if (h.t === "done") {
          // A guest that says done before it has the whole body is not telling the truth.
          if (!ended) settle(new PodflareError("runtime_error", "the sandbox's guest kernel answered the upload before it had the whole file; nothing is known to be written. Check what the sandbox's code changed in its guest kernel, or use a fresh sandbox"));
          else settle();
        } else if (h.t === "error") settle(guestError(h));
      });
      conn.onClose(() => settle(lostConnection()));
      send({ t: "write_open", id, path });
      let total = 0;
      let pending: Buffer[] = [];
      let pendingBytes = 0;
      const flush = () => {
        if (!pendingBytes) return true;
        const chunk = pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingBytes);
        pending = [];
        pendingBytes = 0;
        return send({ t: "write_chunk", id }, chunk);
      };
      function onData(chunk: Buffer): void {
        if (settled) return;
        total += chunk.length;
        if (total > maxBytes) {
          conn.close(); // the guest drops the temp file; nothing is written
          settle(new PodflareError("payload_too_large", `upload exceeds ${maxBytes} bytes; split it into smaller files`));
          return;
        }
        pending.push(chunk);
        pendingBytes += chunk.length;
        if (pendingBytes >= FILE_CHUNK_BYTES && !flush()) {
          body.pause();
          void conn.drain().then(() => {
            if (!settled) body.resume();
          });
        }
      }
      function onEnd(): void {
        ended = true;
        flush();
        send({ t: "write_close", id });
      }
      function onError(err: Error): void {
        conn.close();
        settle(new PodflareError("bad_request", `upload interrupted: ${err.message}`));
      }
      body.on("data", onData);
      body.on("end", onEnd);
      body.on("error", onError);
    });
  } finally {
    conn.close();
  }
}

export type ReadResult =
  | { kind: "file"; size: number; mode: number; pipe: (out: Writable) => Promise<void> }
  | { kind: "dir"; entries: Extract<GuestFrame, { t: "dir" }>["entries"] };

/** Starts reading `path`; a file is then piped with backpressure, a directory comes as a listing. */
export async function readPath(sb: RuntimeSandbox, path: string): Promise<ReadResult> {
  const conn = await sb.openConnection();
  return new Promise<ReadResult>((resolve, reject) => {
    let out: Writable | null = null;
    let finishPipe: ((err?: Error) => void) | null = null;
    const queued: Buffer[] = [];
    let ended = false;

    const id = conn.open((frame) => {
      const h = frame.header as GuestFrame;
      if (h.t === "error") {
        conn.close();
        const err = guestError(h);
        if (finishPipe) finishPipe(err);
        else reject(err);
      } else if (h.t === "dir") {
        conn.close();
        resolve({ kind: "dir", entries: h.entries });
      } else if (h.t === "file") {
        resolve({
          kind: "file",
          size: h.size,
          mode: h.mode,
          pipe: (target) => {
            out = target;
            return new Promise<void>((res, rej) => {
              finishPipe = (err) => {
                conn.close();
                if (err) rej(err);
                else res();
              };
              for (const b of queued.splice(0)) write(b);
              if (ended) finishPipe();
            });
          },
        });
      } else if (h.t === "data") {
        if (out) write(frame.body);
        else queued.push(Buffer.from(frame.body));
      } else if (h.t === "done") {
        ended = true;
        finishPipe?.();
      }
    });

    function write(b: Buffer): void {
      if (!out!.write(b)) {
        conn.pause();
        out!.once("drain", () => conn.resume());
      }
    }

    conn.onClose(() => {
      if (ended) return;
      if (finishPipe) finishPipe(lostConnection());
      else reject(lostConnection());
    });
    conn.send({ t: "read", id, path });
  });
}

export async function removePath(sb: RuntimeSandbox, path: string): Promise<void> {
  const conn: GuestConnection = await sb.openConnection();
  try {
    await new Promise<void>((resolve, reject) => {
      const id = conn.open((frame) => {
        const h = frame.header as GuestFrame;
        if (h.t === "done") resolve();
        else if (h.t === "error") reject(guestError(h));
      });
      conn.onClose(() => reject(lostConnection()));
      conn.send({ t: "remove", id, path });
    });
  } finally {
    conn.close();
  }
}
