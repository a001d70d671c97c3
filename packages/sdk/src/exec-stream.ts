// Exec over NDJSON: opening the stream, then reading it whole (runCode) or event by event
// (runCodeStream). Both fail with ProtocolError when the stream ends without an exit event.

import type { IncomingMessage } from "node:http";
import { ProtocolError } from "./errors.js";
import { NdjsonDecoder, toExecEvent, type ExecEvent, type ExecResult } from "./events.js";
import { contextIdOf } from "./contexts.js";
import { streamError } from "./http.js";
import { RichCollector } from "./rich-collector.js";
import { sandboxPath, type SandboxRef } from "./sandbox-ref.js";
import type { Language, RunOptions } from "./types.js";
import type * as wire from "./wire.js";

/** Sends the exec request and resolves when the answer's headers arrive. */
export function openExec(ref: SandboxRef, code: string, language: Language, opts: RunOptions, results: boolean): Promise<IncomingMessage> {
  const body: wire.ExecRequest = { code, language };
  if (results) body.results = true;
  if (opts.timeoutMs !== undefined) body.timeout_ms = opts.timeoutMs;
  if (opts.env !== undefined) body.env = opts.env;
  if (opts.cwd !== undefined) body.cwd = opts.cwd;
  if (opts.context !== undefined) body.context_id = contextIdOf(opts.context);
  // The server is silent while code runs; only an exec with a deadline gets a client one.
  const timeoutMs = opts.timeoutMs !== undefined ? opts.timeoutMs + ref.http.timeoutMs : 0;
  // An abort drops the connection (before or after the head: code that prints nothing sends
  // no head until it ends), and hostd interrupts the code (docs/api.md, exec).
  return ref.http.open("POST", sandboxPath(ref, "/exec"), { json: body, timeoutMs, accept: "application/x-ndjson", signal: opts.signal });
}

/** Yields the events of an exec answer; leaving early drops the connection. */
export async function* streamExec(res: IncomingMessage, what: string, signal?: AbortSignal): AsyncGenerator<ExecEvent, void, undefined> {
  const decoder = new NdjsonDecoder();
  let exited = false;
  try {
    for await (const chunk of res) {
      for (const value of decoder.push(chunk as Buffer)) {
        const ev = toExecEvent(value);
        if (!ev) continue;
        if (ev.type === "exit") exited = true;
        yield ev;
      }
    }
    for (const value of decoder.end()) {
      const ev = toExecEvent(value);
      if (!ev) continue;
      if (ev.type === "exit") exited = true;
      yield ev;
    }
  } catch (err) {
    throw streamError(err, what, signal);
  } finally {
    if (!res.complete) res.destroy();
  }
  if (!exited) throw new ProtocolError(`${what}: the stream ended without an exit event`);
}

/** Reads a whole exec answer without per-event allocation of iterator objects: the hot path. */
export function collectExec(res: IncomingMessage, what: string, opts: RunOptions = {}): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const decoder = new NdjsonDecoder();
    const stdout: string[] = [];
    const stderr: string[] = [];
    const rich = new RichCollector(opts);
    let exitCode: number | undefined;
    let failed = false;
    const take = (values: unknown[]): void => {
      for (const value of values) {
        const ev = toExecEvent(value);
        if (ev === undefined) continue;
        if (ev.type === "result" || ev.type === "error") rich.take(ev);
        else if (ev.type === "exit") exitCode = ev.data;
        else if (ev.type === "stdout") stdout.push(ev.data);
        else stderr.push(ev.data);
      }
    };
    const fail = (err: unknown): void => {
      if (failed) return;
      failed = true;
      res.destroy();
      reject(streamError(err, what, opts.signal));
    };
    res.on("data", (chunk: Buffer) => {
      try {
        take(decoder.push(chunk));
      } catch (err) {
        fail(err);
      }
    });
    res.on("end", () => {
      if (failed) return;
      try {
        take(decoder.end());
      } catch (err) {
        fail(err);
        return;
      }
      if (exitCode === undefined) fail(new ProtocolError(`${what}: the stream ended without an exit event`));
      else resolve({ stdout: stdout.join(""), stderr: stderr.join(""), exitCode, ...rich.fields() });
    });
    res.on("error", fail);
  });
}
