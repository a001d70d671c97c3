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

/**
 * Checks `upload`'s arguments: data (Uint8Array or string) first, the path (string) second,
 * as Podflare's SDKs take them. Nothing is guessed from the values: a call with the two
 * swapped would otherwise write the content under a name made of the path.
 */
export function uploadArgs(data: Uint8Array | string, path: string): [Uint8Array | string, string] {
  if ((path as unknown) instanceof Uint8Array && typeof data === "string") {
    throw new TypeError(`upload(data, path) takes the data first and the path second: upload(<bytes>, ${JSON.stringify(data.slice(0, 60))})`);
  }
  if (typeof path !== "string" || path === "") {
    throw new TypeError('upload(data, path): path must be a non-empty string, e.g. upload("hello", "/root/notes.txt")');
  }
  if (typeof data !== "string" && !(data instanceof Uint8Array)) {
    throw new TypeError("upload(data, path): data must be a Uint8Array (e.g. a Buffer) or a string");
  }
  return [data, path];
}

export async function uploadFile(ref: SandboxRef, data: Uint8Array | string, path: string): Promise<void> {
  uploadArgs(data, path);
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
