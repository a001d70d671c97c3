// A file download that never holds more than `maxBytes`: refused from its declared length
// before the body is read, and cut if more arrives. The SDK's download() reads a whole file
// into memory, and over HTTP this runs inside hostd.
import { HttpClient, IsADirectoryError, ProtocolError, type ConnectionOptions } from "podflare";
import { McpToolError } from "./tool-errors.js";

export async function downloadAtMost(conn: ConnectionOptions, sandboxId: string, path: string, maxBytes: number): Promise<Buffer> {
  const http = new HttpClient(conn);
  const res = await http.open("GET", `/v1/sandboxes/${encodeURIComponent(sandboxId)}/files?path=${encodeURIComponent(path)}`);
  const tooBig = (bytes: number): McpToolError =>
    new McpToolError(
      "payload_too_large",
      `${path} is ${bytes} bytes, over the ${maxBytes}-byte limit of download; split it in the sandbox (e.g. run_bash "split -b 4M ${path}") or use the REST API`,
    );
  if (/^application\/json\b/i.test(res.headers["content-type"] ?? "")) {
    res.destroy();
    throw new IsADirectoryError(`${path} is a directory in sandbox ${sandboxId}; use list_files to see its entries`);
  }
  const declared = Number(res.headers["content-length"]);
  if (!Number.isSafeInteger(declared)) {
    res.destroy();
    throw new ProtocolError(`download of ${path} answered without a Content-Length`);
  }
  if (declared > maxBytes) {
    res.destroy();
    throw tooBig(declared);
  }
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of res) {
    total += (chunk as Buffer).length;
    if (total > maxBytes) {
      res.destroy();
      throw tooBig(total);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks, total);
}
