// One request on a caller's connection, from its head to the end of its answer: where it goes
// (its plan), its body on the way (held until it has somewhere to go), and what the caller
// was answered (for metrics and the access log).
import type { PodflareError } from "@podflare/protocol";
import type { Duplex } from "node:stream";
import type { Region } from "../regions.js";
import type { ParsedHead } from "./llhttp.js";
import type { RequestFacts } from "./heads.js";

export type Plan =
  /** Straight to a region's hostd: calls on an id, and the rest not served by the edge itself. */
  | { to: "origin"; region: Region; kind: string }
  /** Buffered, then to the nearest (or named) region, the next one on failure. */
  | { to: "create" }
  /** To the edge's own node:http server (front/inner.ts). */
  | { to: "inner" }
  /** A protocol upgrade: the rest of the connection goes to the edge's own server. */
  | { to: "splice" }
  /** Answered by the front with this error, and the connection closed (an HTTP/1.1 head without Host). */
  | { to: "refuse"; err: PodflareError };

/** Writes one chunk of an HTTP/1.1 chunked body; false when the socket is full. */
export function writeChunk(socket: Duplex, chunk: Buffer): boolean {
  if (chunk.length === 0) return true;
  socket.cork();
  socket.write(`${chunk.length.toString(16)}\r\n`);
  socket.write(chunk);
  const ok = socket.write("\r\n");
  socket.uncork(); // one writev for the three pieces
  return ok;
}

export class Exchange {
  /** Body bytes that arrived before the request had a target. */
  held: Buffer[] = [];
  heldBytes = 0;
  /** It was sent on its way (client-connection.ts start). */
  begun = false;
  /** The caller sent the whole request. */
  requestDone = false;
  /** The whole request was handed to the target's OS socket (the create failover rule). */
  sentAll = false;
  /** Where body bytes go once the head is sent; false: the target is full. */
  sink: ((chunk: Buffer) => boolean) | undefined;
  /** Ends the body at the target (the last chunk), once requestDone. */
  endBody: (() => void) | undefined;
  /** Called when the request becomes whole (a create waits for its body). */
  onRequestDone: (() => void) | undefined;
  /** The answer's head went to the caller. */
  answered = false;
  status = 0;
  region = "";
  /** The caller whose share of origin calls this exchange holds (key-shares.ts), until it ends. */
  share: string | undefined;
  readonly started = performance.now();

  constructor(
    readonly head: ParsedHead,
    readonly facts: RequestFacts,
    public plan: Plan,
  ) {}

  /** The headers as an object, for the access log only. */
  headerObject(): Record<string, string> {
    const out: Record<string, string> = {};
    const raw = this.head.rawHeaders;
    for (let i = 0; i < raw.length; i += 2) {
      const k = raw[i]!.toLowerCase();
      out[k] = out[k] === undefined ? raw[i + 1]! : `${out[k]}, ${raw[i + 1]}`;
    }
    return out;
  }
}
