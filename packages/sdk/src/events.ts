// Exec answers are NDJSON: one event a line, flushed as produced. The decoder splits on
// the newline byte before decoding, so a multi-byte character cut across chunks is safe
// (0x0A never occurs inside a UTF-8 sequence).

import { ProtocolError } from "./errors.js";
import { toErrorEvent, toResultEvent, type ExecError, type ExecErrorEvent, type ExecResultEvent, type Result } from "./results.js";

/**
 * An output line (keeping its newline) or the final exit code: what the hosted API streams,
 * and what `runCodeStream` yields unless asked for results. `seq` is monotonic per call, `ts`
 * epoch ms.
 */
export type OutputEvent =
  | { type: "stdout" | "stderr"; data: string; seq: number; ts: number }
  | { type: "exit"; data: number; seq: number; ts: number };

/** An output event, or a rich result or exception of a python exec (`{results: true}`). */
export type ExecEvent =
  | OutputEvent
  | ({ seq: number; ts: number } & ExecResultEvent)
  | ({ seq: number; ts: number } & ExecErrorEvent);

/** The hosted SDK's name for an exec event (`runCodeStream` yields them). */
export type Event = OutputEvent;

/**
 * What `runCode` returns: each stream joined byte for byte, the exit code, and for python the
 * rich results (the last expression's value, display() calls, figures) and the exception.
 */
export interface ExecResult {
  stdout: string;
  stderr: string;
  exitCode: number;
  results: Result[];
  error?: ExecError;
}

/**
 * Incremental NDJSON decoder: feed byte chunks as they arrive, get parsed values for
 * every complete line. Blank lines are skipped; `end()` parses a last line without newline.
 *
 * @example
 * const dec = new NdjsonDecoder();
 * dec.push(Buffer.from('{"a":1}\n{"a"')); // [{a: 1}]
 * dec.push(Buffer.from(':2}\n'));          // [{a: 2}]
 */
export class NdjsonDecoder {
  private pending: Buffer | undefined;

  push(chunk: Uint8Array): unknown[] {
    let buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (this.pending) {
      buf = Buffer.concat([this.pending, buf]);
      this.pending = undefined;
    }
    const out: unknown[] = [];
    let start = 0;
    for (let nl = buf.indexOf(10, start); nl !== -1; nl = buf.indexOf(10, start)) {
      if (nl > start) out.push(parseLine(buf, start, nl));
      start = nl + 1;
    }
    // Copy the tail: it may be a slice of a large socket buffer we should not pin.
    if (start < buf.length) this.pending = Buffer.from(buf.subarray(start));
    return out;
  }

  end(): unknown[] {
    const rest = this.pending;
    this.pending = undefined;
    if (!rest || rest.toString("utf8").trim() === "") return [];
    return [parseLine(rest, 0, rest.length)];
  }
}

function parseLine(buf: Buffer, start: number, end: number): unknown {
  const text = buf.toString("utf8", start, end);
  try {
    return JSON.parse(text);
  } catch {
    if (text.trim() === "") return undefined;
    throw new ProtocolError(`exec stream sent a line that is not JSON: ${text.slice(0, 200)}`);
  }
}

/**
 * Checks one decoded value is an exec event. Returns undefined for an event type this SDK
 * does not know (a newer server may add some), so callers can skip it.
 */
export function toExecEvent(value: unknown): ExecEvent | undefined {
  if (typeof value !== "object" || value === null) {
    if (value === undefined) return undefined;
    throw new ProtocolError(`exec stream sent a non-object line: ${JSON.stringify(value)}`);
  }
  const ev = value as Record<string, unknown>;
  const seq = typeof ev["seq"] === "number" ? ev["seq"] : 0;
  const ts = typeof ev["ts"] === "number" ? ev["ts"] : 0;
  switch (ev["type"]) {
    case "stdout":
    case "stderr":
      if (typeof ev["data"] !== "string") throw new ProtocolError(`exec ${ev["type"]} event without string data`);
      return { type: ev["type"], data: ev["data"], seq, ts };
    case "exit":
      if (typeof ev["data"] !== "number") throw new ProtocolError("exec exit event without a numeric code");
      return { type: "exit", data: ev["data"], seq, ts };
    case "result":
      return { ...toResultEvent(ev), seq, ts };
    case "error":
      return { ...toErrorEvent(ev), seq, ts };
    default:
      return undefined;
  }
}
