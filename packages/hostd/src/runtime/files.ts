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
  process_not_found: "process_not_found",
  process_limit: "process_limit",
  exists: "file_exists",
  not_empty: "directory_not_empty",
  too_many_entries: "too_many_entries",
  not_regular: "not_a_regular_file",
  too_large: "payload_too_large",
};

export function guestError(h: Extract<GuestFrame, { t: "error" }>): PodflareError {
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
export async function uploadFile(sb: RuntimeSandbox, path: string, body: Readable, maxBytes: number, replyTimeoutMs: number): Promise<void> {
  const conn = await sb.openConnection();
  let timer: NodeJS.Timeout | undefined;
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
        body.off("close", onBodyClose);
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
        timer = setTimeout(
          () => settle(new PodflareError("runtime_error", `the sandbox's guest kernel did not confirm the upload of ${path} within ${replyTimeoutMs} ms; check the file and try again`)),
          replyTimeoutMs,
        );
      }
      function onError(err: Error): void {
        conn.close();
        settle(new PodflareError("bad_request", `upload interrupted: ${err.message}`));
      }
      function onBodyClose(): void {
        if (!ended) settle(new PodflareError("bad_request", "the client went away before the upload was complete; nothing was written"));
      }
      body.on("data", onData);
      body.on("end", onEnd);
      body.on("error", onError);
      body.on("close", onBodyClose);
      // The body may have failed or closed while the connection opened: its events are past.
      if (body.errored) onError(body.errored);
      else if (body.destroyed) onBodyClose();
    });
  } finally {
    clearTimeout(timer);
    conn.close();
  }
}

export type ReadResult =
  | { kind: "file"; size: number; mode: number; pipe: (out: Writable) => Promise<void> }
  | { kind: "dir"; entries: Extract<GuestFrame, { t: "dir" }>["entries"] };

/**
 * Starts reading `path`; a file is then piped with backpressure, a directory comes as a listing.
 * The guest is untrusted: exactly the size it declared goes out (the caller sends it as the
 * content length), and the last bytes only once the guest said `done`; a guest that sends more
 * or less fails the pipe, so it can never write past the answer on the client's connection.
 * A guest that stays silent for replyTimeoutMs (before its answer, or mid-file while the client
 * is reading) fails the read too.
 */
export async function readPath(sb: RuntimeSandbox, path: string, replyTimeoutMs: number): Promise<ReadResult> {
  const conn = await sb.openConnection();
  return new Promise<ReadResult>((resolve, reject) => {
    let answered = false;
    let out: Writable | null = null;
    let finishPipe: ((err?: Error) => void) | null = null;
    let failedEarly: Error | null = null;
    let size = 0;
    let sent = 0;
    let tail: Buffer | null = null; // the last bytes, held until `done`
    let complete = false;
    let blockedByClient = false;
    const queued: (Buffer | "done")[] = []; // frames that came before the caller piped
    let silence: NodeJS.Timeout | undefined;

    let failed = false;
    const fail = (err: Error) => {
      failed = true;
      clearTimeout(silence);
      conn.close();
      if (!answered) reject(err);
      else if (finishPipe) finishPipe(err);
      else failedEarly ??= err;
    };
    const watchSilence = () => {
      clearTimeout(silence);
      if (complete || blockedByClient) return;
      silence = setTimeout(
        () => fail(new PodflareError("runtime_error", `the sandbox's guest kernel stopped answering the read of ${path} for ${replyTimeoutMs} ms; try again`)),
        replyTimeoutMs,
      );
    };
    const misbehaved = (what: string) =>
      fail(new PodflareError("runtime_error", `the sandbox's guest kernel ${what} for ${path}; the read was cut. Try again or use a fresh sandbox`));

    const id = conn.open((frame) => {
      const h = frame.header as GuestFrame;
      // Nothing the guest says after a failure may reach the client (a `done` would send the
      // held last bytes and make a cut download look whole).
      if (failed) return;
      if (h.t === "error") fail(guestError(h));
      else if (!answered && h.t === "dir") {
        answered = complete = true;
        clearTimeout(silence);
        conn.close();
        resolve({ kind: "dir", entries: h.entries });
      } else if (!answered && h.t === "file") {
        answered = true;
        clearTimeout(silence);
        size = h.size;
        conn.pause(); // read on once the caller pipes
        resolve({ kind: "file", size: h.size, mode: h.mode, pipe });
      } else if (answered && h.t === "data") onData(frame.body);
      else if (answered && h.t === "done") onDone();
      else misbehaved(`sent an unexpected ${JSON.stringify(h.t)} frame`);
    }, { download: true });

    function pipe(target: Writable): Promise<void> {
      out = target;
      return new Promise<void>((res, rej) => {
        finishPipe = (err) => {
          finishPipe = () => {};
          clearTimeout(silence);
          conn.close();
          if (err) rej(err);
          else res();
        };
        // The client went away (a cancelled download): stop, whatever the guest does.
        target.once("close", () => finishPipe!(new PodflareError("bad_request", "the client closed the download")));
        if (failedEarly) return finishPipe(failedEarly);
        for (const item of queued.splice(0)) {
          if (item === "done") onDone();
          else onData(item);
        }
        if (complete) return;
        watchSilence();
        conn.resume();
      });
    }

    function onData(b: Buffer): void {
      if (failed) return;
      if (!out) {
        queued.push(b);
        return;
      }
      if (sent + b.length > size) return misbehaved(`sent more than the ${size} bytes it declared`);
      sent += b.length;
      watchSilence();
      if (sent === size) tail = b;
      else write(b);
    }

    function onDone(): void {
      if (failed) return;
      if (!out) {
        queued.push("done");
        return;
      }
      if (sent !== size) return misbehaved(`sent ${sent} of the ${size} bytes it declared`);
      complete = true;
      if (tail) out.write(tail);
      tail = null;
      finishPipe?.();
    }

    function write(b: Buffer): void {
      if (!out!.write(b) && !blockedByClient) {
        blockedByClient = true;
        clearTimeout(silence);
        conn.pause();
        out!.once("drain", () => {
          blockedByClient = false;
          watchSilence();
          conn.resume();
        });
      }
    }

    conn.onClose(() => {
      if (!complete) fail(lostConnection());
    });
    watchSilence();
    try {
      conn.send({ t: "read", id, path });
    } catch {
      fail(lostConnection());
    }
  });
}

export async function removePath(sb: RuntimeSandbox, path: string, replyTimeoutMs: number): Promise<void> {
  const conn: GuestConnection = await sb.openConnection();
  let timer: NodeJS.Timeout | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      timer = setTimeout(
        () => reject(new PodflareError("runtime_error", `the sandbox's guest kernel did not answer the removal of ${path} within ${replyTimeoutMs} ms; try again`)),
        replyTimeoutMs,
      );
      const id = conn.open((frame) => {
        const h = frame.header as GuestFrame;
        if (h.t === "done") resolve();
        else if (h.t === "error") reject(guestError(h));
        else reject(new PodflareError("runtime_error", `the sandbox's guest kernel answered a removal with ${JSON.stringify(h.t)}; try again or use a fresh sandbox`));
      });
      conn.onClose(() => reject(lostConnection()));
      conn.send({ t: "remove", id, path });
    });
  } finally {
    clearTimeout(timer);
    conn.close();
  }
}
