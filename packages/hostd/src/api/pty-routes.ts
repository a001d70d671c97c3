// The PTY over a WebSocket: GET /v1/sandboxes/:id/pty (Upgrade: websocket). A PTY is a
// background process with a terminal (api/process-routes.ts, guest processes.py): this route
// starts one (or attaches to `?pid=`), then carries its output as binary messages and takes
// input (binary) and JSON control messages (resize, signal) the other way.
import http from "node:http";
import type { Duplex } from "node:stream";
import { PodflareError, processLimits, sandboxIdPattern, type ErrorBody, type GuestFrame, type HostFrame, type ProcessInfo, type ProcessSelector } from "@podflare/protocol";
import type { Authenticator } from "../auth/authenticator.js";
import type { OpenCalls } from "../auth/open-calls.js";
import type { HostdConfig } from "../config.js";
import type { SandboxManager } from "../lifecycle/sandbox-manager.js";
import { guestError } from "../runtime/files.js";
import type { GuestConnection } from "../runtime/guest-connection.js";
import { guestRequest } from "../runtime/guest-request.js";
import { malformedSandboxId } from "./route.js";
import { parseSelector, parseSignal, parseSize } from "./validate.js";
import { OP, WsError, WsReader, encodeWs, handshake } from "./websocket.js";
import { internalError } from "./http.js";
import { requestUrl } from "./request-url.js";

const PTY_ROUTE = /^\/v1\/sandboxes\/([^/]+)\/pty$/;
// Input and control messages are small; a paste is at most this.
const MAX_MESSAGE_BYTES = processLimits.maxInputBytes;
// Each failed message is answered; past this many the session is closed (1008), so that a
// flood of bad messages cannot turn into a flood of answers.
const MAX_FAILED_MESSAGES = processLimits.maxPtyFailedMessages;

export class PtyServer {
  private readonly open = new Set<Duplex>();

  constructor(
    private readonly cfg: HostdConfig,
    private readonly sandboxes: SandboxManager,
    private readonly auth: Authenticator,
    private readonly log: (msg: string) => void,
    /** Where the upgraded connection is tracked under its key, to be closed if the key is revoked. */
    private readonly calls?: OpenCalls,
  ) {}

  handleUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): boolean {
    const url = requestUrl(req.url);
    const m = PTY_ROUTE.exec(url.pathname);
    if (!m) return false;
    socket.on("error", () => {});
    socket.pause();
    let id = m[1]!;
    try {
      id = decodeURIComponent(id);
    } catch {
      // not percent-encoding: checked as it is (and refused as an unknown sandbox)
    }
    this.serve(req, socket, head, id, url).catch((err) => {
      const e = err instanceof PodflareError ? err : internalError();
      if (e.code === "internal") this.log(`pty: ${(err as Error)?.stack ?? String(err)}`);
      writeRawError(socket, e);
    });
    return true;
  }

  closeAll(): void {
    for (const s of this.open) s.destroy();
  }

  private async serve(req: http.IncomingMessage, socket: Duplex, head: Buffer, id: string, url: URL): Promise<void> {
    const owner = this.auth.principal(req).owner;
    this.calls?.trackSocket(owner, socket);
    const answer = handshake(req);
    if (!sandboxIdPattern.test(id)) throw malformedSandboxId(id);
    this.sandboxes.info(owner, id);
    const timeout = this.cfg.guestReplyTimeoutMs;
    let selector: ProcessSelector;
    let created = false;
    const q = url.searchParams;
    if (q.has("pid")) {
      selector = parseSelector(q.get("pid")!);
      // Refused as HTTP before the upgrade (404 process_not_found), not as a frame after it.
      await guestRequest(await this.sandboxes.openGuest(owner, id), { t: "proc_info", ...selector }, ["proc_info"], timeout);
    } else {
      const size = parseSize({ rows: Number(q.get("rows") ?? 24), cols: Number(q.get("cols") ?? 80) });
      const cmd = q.get("cmd");
      if (cmd !== null && (cmd === "" || cmd.includes("\0"))) throw new PodflareError("bad_request", "cmd must be a non-empty shell command line");
      const cwd = q.get("cwd");
      const started = await guestRequest(await this.sandboxes.openGuest(owner, id), {
        t: "proc_start",
        ...(cmd !== null ? { cmd, args: null } : { cmd: "/bin/bash", args: ["-i", "-l"] }),
        ...(cwd ? { cwd } : {}),
        stdin: true,
        pty: size,
        max_running: processLimits.maxRunning,
        buffer_bytes: processLimits.bufferBytes,
      }, ["proc_started"], timeout);
      selector = { pid: started.process.pid };
      created = true;
    }
    const stream = await this.sandboxes.openGuest(owner, id, true);
    const control = await this.sandboxes.openGuest(owner, id);
    if (socket.destroyed) {
      stream.close();
      control.close();
      return;
    }
    this.open.add(socket);
    socket.write(answer);
    new PtySession(socket, stream, control, selector, created, () => {
      this.open.delete(socket);
      if (created) {
        // Like a terminal closing: the shell gets SIGHUP.
        void this.sandboxes.openGuest(owner, id)
          .then((c) => guestRequest(c, { t: "proc_signal", signal: 1, ...selector }, ["done"], timeout))
          .catch(() => {});
      }
    }).start(head);
  }
}

class PtySession {
  private readonly reader = new WsReader(MAX_MESSAGE_BYTES);
  private closed = false;
  private ended = false;
  /** Our writes to the client wait to drain: the guest's output and the client's input both stop. */
  private outputFull = false;
  /** The guest has not taken the client's last input yet. */
  private inputPaused = false;
  private failures = 0;

  constructor(
    private readonly socket: Duplex,
    private readonly stream: GuestConnection,
    private readonly control: GuestConnection,
    private readonly selector: ProcessSelector,
    readonly created: boolean,
    private readonly onEnd: () => void,
  ) {}

  start(head: Buffer): void {
    const id = this.stream.open((f) => {
      const h = f.header;
      if (h.t === "proc_info") this.text({ type: "start", process: h.process as ProcessInfo });
      else if (h.t === "proc_out") this.send(OP.binary, f.body);
      else if (h.t === "proc_exit") {
        this.text({ type: "exit", exit_code: h.exit_code, signal: h.signal });
        this.close(1000);
      } else if (h.t === "error") {
        this.text({ type: "error", code: guestError(h).code, error: h.message });
        this.close(1011);
      }
    });
    this.stream.onClose(() => this.close(1011));
    this.control.onClose(() => this.close(1011));
    // hold: a terminal's program waits for a slow screen, as on a real tty; nothing is dropped.
    this.stream.send({ t: "proc_connect", id, from: "start", hold: true, ...this.selector });
    this.socket.on("data", (chunk: Buffer) => this.onData(chunk));
    this.socket.on("close", () => this.finish());
    // The client closed its side without a close frame: the server's socket is half-open
    // (allowHalfOpen) and would stay so; end ours too.
    this.socket.on("end", () => this.close(1000));
    if (head.length) this.onData(head);
    this.reading();
  }

  /**
   * The client is read only while everything it caused can go out: its input into the guest,
   * and our answers (pongs, errors) and the terminal's output to it. A client that sends and
   * never reads is held back by TCP instead of growing hostd.
   */
  private reading(): void {
    if (this.closed) return;
    if (this.outputFull || this.inputPaused) this.socket.pause();
    else this.socket.resume();
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    let messages;
    try {
      messages = this.reader.push(chunk);
    } catch (err) {
      this.text({ type: "error", code: "bad_request", error: (err as Error).message });
      return this.close(err instanceof WsError ? err.closeCode : 1002);
    }
    for (const m of messages) {
      // One read may hold thousands of small messages: none is served after the close.
      if (this.closed) return;
      if (m.opcode === OP.binary) this.request({ t: "proc_input", id: 0, ...this.selector }, m.payload);
      else if (m.opcode === OP.text) this.onControl(m.payload.toString("utf8"));
      else if (m.opcode === OP.ping) this.send(OP.pong, m.payload);
      else if (m.opcode === OP.close) this.close(1000);
    }
  }

  private onControl(text: string): void {
    try {
      const msg = JSON.parse(text) as Record<string, unknown>;
      if (msg.type === "input" && typeof msg.data === "string") this.request({ t: "proc_input", id: 0, ...this.selector }, Buffer.from(msg.data, "utf8"));
      else if (msg.type === "resize") this.request({ t: "proc_resize", id: 0, ...parseSize(msg), ...this.selector });
      else if (msg.type === "signal") this.request({ t: "proc_signal", id: 0, signal: parseSignal(msg), ...this.selector });
      else throw new PodflareError("bad_request", `unknown message ${JSON.stringify(msg.type)}: send binary input, or JSON {type: "input"|"resize"|"signal"}`);
    } catch (err) {
      const e = err instanceof PodflareError ? err : new PodflareError("bad_request", `a text message must be JSON: ${(err as Error).message}`);
      this.failed(e.code, e.message);
    }
  }

  /** A client message failed: answered, and the session closed once too many have. */
  private failed(code: string, error: string): void {
    if (this.closed) return;
    this.failures++;
    this.text({ type: "error", code, error });
    if (this.failures >= MAX_FAILED_MESSAGES) {
      this.text({ type: "error", code: "bad_request", error: `${this.failures} messages failed; closing the session. Send binary input, or JSON {type: "input"|"resize"|"signal"}, and reconnect` });
      this.close(1008);
    }
  }

  /** Input, resize and signal share one connection, answered in order; only failures are told. */
  private request(frame: HostFrame, body?: Buffer): void {
    if (this.closed) return;
    const id = this.control.open((f) => {
      this.control.release(id);
      const h = f.header as GuestFrame;
      if (h.t === "error") this.failed(guestError(h).code, h.message);
    });
    try {
      // A program that does not read its input holds the guest back; then stop reading the
      // client too (TCP holds the sender), instead of buffering its input here.
      if (!this.control.send({ ...frame, id } as HostFrame, body) && !this.inputPaused) {
        this.inputPaused = true;
        this.reading();
        void this.control.drain().then(() => {
          this.inputPaused = false;
          this.reading();
        });
      }
    } catch {
      this.close(1011);
    }
  }

  private text(obj: object): void {
    this.send(OP.text, Buffer.from(JSON.stringify(obj), "utf8"));
  }

  private send(opcode: number, payload: Buffer): void {
    if (this.closed || this.socket.destroyed) return;
    // The terminal's output waits in the sandbox, and the client's messages in its own
    // socket, while the client is slow to read.
    if (!this.socket.write(encodeWs(opcode, payload)) && !this.outputFull) {
      this.outputFull = true;
      this.stream.pause();
      this.reading();
      this.socket.once("drain", () => {
        this.outputFull = false;
        this.stream.resume();
        this.reading();
      });
    }
  }

  private close(code: number): void {
    if (this.closed) return;
    const payload = Buffer.alloc(2);
    payload.writeUInt16BE(code);
    this.send(OP.close, payload);
    this.closed = true;
    // Nothing more is read: whatever the client still sends waits in its socket until the end.
    this.socket.pause();
    this.socket.end();
    setTimeout(() => this.socket.destroy(), 2000).unref();
    this.finish();
  }

  private finish(): void {
    if (this.ended) return;
    this.ended = true;
    this.closed = true;
    this.stream.close();
    this.control.close();
    this.onEnd();
  }
}

function writeRawError(socket: Duplex, err: PodflareError): void {
  if (socket.destroyed || !socket.writable) return;
  const body = JSON.stringify(err.toBody() satisfies ErrorBody);
  socket.end(
    `HTTP/1.1 ${err.status} ${http.STATUS_CODES[err.status] ?? ""}\r\n` +
      `content-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}
