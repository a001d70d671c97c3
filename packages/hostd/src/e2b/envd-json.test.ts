// The messages hostd sends for envd's services, parsed with the e2b SDK's own protobuf schemas
// (the descriptors embedded in its dist, as its generated code builds them): a field name, enum
// name or int64/Timestamp form the SDK would not read fails here.
import assert from "node:assert/strict";
import fs from "node:fs";
import { createRequire } from "node:module";
import { test } from "node:test";
import { entryInfo, watchEvent } from "./envd-filesystem.js";
import { processEvent, processInfo } from "./envd-process.js";

const require = createRequire(import.meta.url);
const e2bDist = require.resolve("e2b");
const fromE2b = createRequire(e2bDist);
const { fileDesc } = (await import(fromE2b.resolve("@bufbuild/protobuf/codegenv2"))) as typeof import("@bufbuild/protobuf/codegenv2");
const { fromJson } = (await import(fromE2b.resolve("@bufbuild/protobuf"))) as typeof import("@bufbuild/protobuf");
const { file_google_protobuf_timestamp } = (await import(fromE2b.resolve("@bufbuild/protobuf/wkt"))) as typeof import("@bufbuild/protobuf/wkt");

/** process/process.proto and filesystem/filesystem.proto, as the SDK embeds them. */
function sdkFile(protoName: string) {
  const src = fs.readFileSync(e2bDist.replace(/index\.js$/, "index.mjs"), "utf8");
  for (const m of src.matchAll(/fileDesc\("([^"]+)"/g)) {
    if (Buffer.from(m[1]!, "base64").includes(protoName)) return fileDesc(m[1]!, [file_google_protobuf_timestamp]);
  }
  throw new Error(`the e2b SDK's dist has no ${protoName}; its layout changed`);
}
const processProto = sdkFile("process/process.proto");
const fsProto = sdkFile("filesystem/filesystem.proto");
const schema = (file: typeof processProto, name: string) => {
  const m = file.messages.find((x) => x.name === name);
  assert.ok(m, name);
  return m;
};

test("process events parse as StartResponse: start pid, output bytes, end with status", () => {
  const start = schema(processProto, "StartResponse");
  const s = fromJson(start, processEvent({ type: "start", process: { pid: 7 } })! as never) as never as { event: { event: { case: string; value: { pid: number } } } };
  assert.equal(s.event.event.case, "start");
  assert.equal(s.event.event.value.pid, 7);
  const d = fromJson(start, processEvent({ type: "stderr", data_base64: Buffer.from("hé\n").toString("base64") })! as never) as never as { event: { event: { value: { output: { case: string; value: Uint8Array } } } } };
  assert.equal(d.event.event.value.output.case, "stderr");
  assert.equal(Buffer.from(d.event.event.value.output.value).toString(), "hé\n");
  const end = (e: Record<string, unknown>) => (fromJson(start, processEvent(e)! as never) as never as { event: { event: { value: { exitCode: number; exited: boolean; status: string; error?: string } } } }).event.event.value;
  assert.deepEqual({ ...end({ type: "exit", exit_code: 0, signal: null }) }, { $typeName: "process.ProcessEvent.EndEvent", exitCode: 0, exited: true, status: "exit status 0" });
  const failed = end({ type: "exit", exit_code: 3, signal: null });
  assert.equal(failed.exitCode, 3);
  assert.equal(failed.error, "exit status 3");
  const killed = end({ type: "exit", exit_code: 137, signal: "SIGKILL" });
  assert.equal(killed.exitCode, -1);
  assert.equal(killed.status, "signal: killed");
  assert.equal(processEvent({ type: "something-new" }), null);
});

test("a process listing parses as ListResponse's ProcessInfo", () => {
  const info = processInfo({ pid: 9, cmd: "/bin/bash", args: ["-l", "-c", "sleep 1"], cwd: "/root", tag: "t1", pty: false, running: true, exit_code: null, signal: null, started_ms: 1, stdin: false });
  const parsed = fromJson(schema(processProto, "ListResponse"), { processes: [info] } as never) as never as { processes: { pid: number; tag: string; config: { cmd: string; args: string[]; cwd: string } }[] };
  assert.equal(parsed.processes[0]!.pid, 9);
  assert.equal(parsed.processes[0]!.tag, "t1");
  assert.deepEqual(parsed.processes[0]!.config.args, ["-l", "-c", "sleep 1"]);
  assert.equal(parsed.processes[0]!.config.cwd, "/root");
});

test("an entry parses as EntryInfo: type enum, int64 size, Timestamp mtime, symlink target", () => {
  const e = entryInfo({ name: "l", path: "/root/l", type: "symlink", size: 2 ** 40, mode: 0o120777, permissions: "lrwxrwxrwx", owner: "root", group: "root", mtime_ms: 1_700_000_000_123, symlink_target: "/etc" });
  const parsed = fromJson(schema(fsProto, "StatResponse"), { entry: e } as never) as never as { entry: { type: number; size: bigint; mode: number; modifiedTime: { seconds: bigint; nanos: number }; symlinkTarget: string } };
  assert.equal(parsed.entry.type, 3); // FILE_TYPE_SYMLINK
  assert.equal(parsed.entry.size, 2n ** 40n);
  assert.equal(parsed.entry.mode, 0o120777);
  assert.equal(parsed.entry.modifiedTime.seconds, 1_700_000_000n);
  assert.equal(parsed.entry.modifiedTime.nanos, 123_000_000);
  assert.equal(parsed.entry.symlinkTarget, "/etc");
  const dir = fromJson(schema(fsProto, "EntryInfo"), entryInfo({ name: "d", path: "/d", type: "dir", size: 0, mode: 0o40755, permissions: "drwxr-xr-x", owner: "root", group: "root", mtime_ms: 0, symlink_target: null }) as never) as never as { type: number };
  assert.equal(dir.type, 2); // FILE_TYPE_DIRECTORY
});

test("watch events parse as WatchDirResponse with envd's event types", () => {
  const res = schema(fsProto, "WatchDirResponse");
  for (const [ours, number] of [["create", 1], ["write", 2], ["remove", 3], ["rename", 4], ["chmod", 5]] as const) {
    const parsed = fromJson(res, watchEvent("a.txt", ours) as never) as never as { event: { case: string; value: { name: string; type: number } } };
    assert.equal(parsed.event.case, "filesystem");
    assert.equal(parsed.event.value.name, "a.txt");
    assert.equal(parsed.event.value.type, number);
  }
  assert.equal((fromJson(res, { start: {} } as never) as never as { event: { case: string } }).event.case, "start");
});
