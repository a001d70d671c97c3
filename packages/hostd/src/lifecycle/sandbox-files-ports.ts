// Files and ports of a live sandbox: upload, read and remove a path, and a byte stream to a
// port inside (the port proxy). Each wakes a paused sandbox; none waits behind the execs.
import type { Socket } from "node:net";
import type { Readable } from "node:stream";
import { readPath, removePath, uploadFile, type ReadResult } from "../runtime/files.js";
import { openPortStream } from "../runtime/port-stream.js";
import { tenantOf, type LiveSandbox } from "./live-sandboxes.js";
import type { ManagerParts } from "./manager-parts.js";

export async function upload(p: ManagerParts, owner: string, id: string, sb: LiveSandbox, path: string, body: Readable, maxBytes: number): Promise<void> {
  await p.live.wake(sb);
  try {
    await uploadFile(sb.rt, path, body, maxBytes, p.cfg.guestReplyTimeoutMs);
  } catch (err) {
    p.live.get(owner, id); // deleted during the upload: say so (sandbox_not_found)
    throw p.runtime.explainNoSpace?.(err, tenantOf(owner)) ?? err;
  }
}

export async function read(p: ManagerParts, sb: LiveSandbox, path: string): Promise<ReadResult> {
  await p.live.wake(sb);
  return readPath(sb.rt, path, p.cfg.guestReplyTimeoutMs);
}

export async function remove(p: ManagerParts, sb: LiveSandbox, path: string): Promise<void> {
  await p.live.wake(sb);
  await removePath(sb.rt, path, p.cfg.guestReplyTimeoutMs);
}

/**
 * A byte stream to `port` inside the sandbox (the port proxy). Wakes a paused sandbox and
 * counts as activity; while the stream is open the sandbox is never idle.
 */
export async function openPort(p: ManagerParts, sb: LiveSandbox, port: number, timeoutMs: number): Promise<Socket> {
  await p.live.wake(sb);
  const socket = await openPortStream(sb.rt, port, timeoutMs);
  sb.proxied = (sb.proxied ?? 0) + 1;
  socket.once("close", () => {
    sb.proxied!--;
    p.live.touch(sb);
  });
  return socket;
}
