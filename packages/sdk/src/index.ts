// podflare: TypeScript SDK for Podflare sandboxes, hosted or self-hosted (hostd).
//
//   import { Sandbox } from "podflare";
//   const sb = await Sandbox.create();             // PODFLARE_HOSTD_URL, PODFLARE_API_KEY
//   console.log((await sb.runCode("print(6 * 7)")).stdout);
//   await sb.close();

export { Sandbox, uploadArgs } from "./sandbox.js";
export { Client } from "./client.js";
export type { ClientOption } from "./client.js";
export { HttpClient, DEFAULT_HOST, DEFAULT_TIMEOUT_MS, SDK_VERSION } from "./http.js";
export type { RequestOptions, RawResponse } from "./http.js";
export type { Usage } from "./account.js";
export { NdjsonDecoder, toExecEvent } from "./events.js";
export type { Event, ExecEvent, ExecResult, OutputEvent } from "./events.js";
export { Result } from "./results.js";
export type { Context } from "./contexts.js";
export type { ExecError, ExecErrorEvent, ExecResultEvent } from "./results.js";
export { DIFF_SNIPPET, diffCode, compareSnapshots } from "./diff.js";
export type { Snapshot, SnapshotEntry } from "./diff.js";
export { createFieldNames, toCreateRequest, snakeToCamel } from "./types.js";
export type {
  AppliedLimits,
  ConnectionOptions,
  DiffResult,
  FileEntry,
  Language,
  RunOptions,
  SandboxInfo,
  NetworkInfo,
  NetworkPolicy,
  SandboxOptions,
  SandboxState,
} from "./types.js";
export { ExitCode } from "./wire.js";
export type * as wire from "./wire.js";
export * from "./errors.js";
export { fromSandboxMetrics, type SandboxMetrics } from "./metrics.js";
export { Processes } from "./processes.js";
export type { ProcessInfo, ProcessEvent, ProcessRef, StartOptions } from "./processes.js";
export { Filesystem } from "./filesystem.js";
export type { FsEntry, Watch, WatchEvent } from "./filesystem.js";
export { Pty, Terminal } from "./pty.js";
export type { PtyOptions, PtyExit } from "./pty.js";
export { PtyHandle } from "./pty-handle.js";
export type { PtyCreateOptions, PtySize } from "./pty-handle.js";
