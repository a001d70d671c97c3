// The file API of a sandbox: upload, download, list, remove (GET/PUT/DELETE .../files?path=).
// A GET answers JSON for a directory and raw bytes for a file; each call checks it got the kind
// it asked for.

import { IsADirectoryError, NotADirectoryError, ProtocolError } from "./errors.js";
import { enc, sandboxPath, type SandboxRef } from "./sandbox-ref.js";
import { fromFileEntry, type FileEntry } from "./types.js";
import type * as wire from "./wire.js";

function filePath(ref: SandboxRef, path: string): string {
  if (typeof path !== "string" || path === "") throw new TypeError("a file path must be a non-empty string, e.g. \"/root/data.csv\"");
  return `${sandboxPath(ref, "/files")}?path=${enc(path)}`;
}

function isJson(contentType: string | undefined): boolean {
  return contentType !== undefined && /^application\/json\b/i.test(contentType);
}

const isBytes = (v: unknown): v is Uint8Array | ArrayBuffer => v instanceof Uint8Array || v instanceof ArrayBuffer;

/**
 * Checks `upload`'s arguments and returns them as [data, path]. Podflare's order is data
 * (bytes or a string) first, the path second. The one call read the other way is the
 * unambiguous one: a string first and bytes (Uint8Array, Buffer, ArrayBuffer) second can
 * only be (path, data), the order the hosted README writes. Everything else stays data
 * first; two strings are never reordered by their look.
 */
export function uploadArgs(a: Uint8Array | ArrayBuffer | string, b: string | Uint8Array | ArrayBuffer): [Uint8Array | string, string] {
  const [data, path] = typeof a === "string" && isBytes(b) ? [b, a] : [a, b];
  if (typeof path !== "string" || path === "") {
    throw new TypeError('upload(data, path): path must be a non-empty string, e.g. upload("hello", "/root/notes.txt") or upload("/root/a.bin", bytes)');
  }
  if (typeof data !== "string" && !isBytes(data)) {
    throw new TypeError("upload(data, path): data must be a Uint8Array (e.g. a Buffer), an ArrayBuffer or a string");
  }
  return [data instanceof ArrayBuffer ? new Uint8Array(data) : data, path];
}

export async function uploadFile(ref: SandboxRef, a: Uint8Array | ArrayBuffer | string, b: string | Uint8Array | ArrayBuffer): Promise<void> {
  const [data, path] = uploadArgs(a, b);
  const body = typeof data === "string" ? Buffer.from(data, "utf8") : data;
  await ref.http.request("PUT", filePath(ref, path), { body, contentType: "application/octet-stream" });
}

export async function downloadFile(ref: SandboxRef, path: string): Promise<Buffer> {
  const res = await ref.http.request("GET", filePath(ref, path));
  if (isJson(res.headers["content-type"])) {
    throw new IsADirectoryError(`${path} is a directory in sandbox ${ref.id}; use list(${JSON.stringify(path)}) to see its entries`);
  }
  return res.body;
}

export async function listDir(ref: SandboxRef, path: string): Promise<FileEntry[]> {
  const res = await ref.http.request("GET", filePath(ref, path), { accept: "application/json" });
  if (!isJson(res.headers["content-type"])) {
    throw new NotADirectoryError(`${path} is a file in sandbox ${ref.id}; use download(${JSON.stringify(path)}) to read it`);
  }
  let listing: wire.DirListing;
  try {
    listing = JSON.parse(res.body.toString("utf8")) as wire.DirListing;
  } catch {
    throw new ProtocolError(`listing of ${path} is not valid JSON`);
  }
  if (!Array.isArray(listing?.entries)) throw new ProtocolError(`listing of ${path} has no entries array`);
  return listing.entries.map(fromFileEntry);
}

export async function removePath(ref: SandboxRef, path: string): Promise<void> {
  await ref.http.request("DELETE", filePath(ref, path));
}
