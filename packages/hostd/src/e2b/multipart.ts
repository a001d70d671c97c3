// A streaming multipart/form-data reader (what the E2B SDK uploads files with). Each part's body
// is a stream read straight from the request, so an upload of any size costs a small buffer.
import { Readable } from "node:stream";
import { E2bError } from "./envelope.js";

const MAX_HEADER_BYTES = 16 * 1024;

export interface Part {
  name: string | undefined;
  filename: string | undefined;
  body: Readable;
}

/** The boundary of a `multipart/form-data; boundary=…` content type, or null. */
export function boundaryOf(contentType: string | undefined): string | null {
  if (!contentType || !/^multipart\/form-data\s*;/i.test(contentType)) return null;
  const m = /;\s*boundary=(?:"([^"]+)"|([^\s;]+))/i.exec(contentType);
  const b = m ? (m[1] ?? m[2]) : undefined;
  return b && b.length <= 200 ? b : null;
}

export class MultipartReader {
  private readonly it: AsyncIterator<Buffer>;
  private readonly delim: Buffer;
  // A CRLF in front lets the first boundary match the same delimiter as the others.
  private buf: Buffer = Buffer.from("\r\n");
  private ended = false;
  private finished = false;
  private bodyOpen = false;

  constructor(source: AsyncIterable<Buffer>, boundary: string) {
    this.it = source[Symbol.asyncIterator]();
    this.delim = Buffer.from(`\r\n--${boundary}`);
  }

  /** The next part; its body must be read to the end before asking for the one after. */
  async next(): Promise<Part | null> {
    if (this.bodyOpen) throw new Error("read the previous part's body before the next part");
    if (this.finished) return null;
    // Skip to the delimiter (the preamble on the first call; nothing after a body).
    for (;;) {
      const i = this.buf.indexOf(this.delim);
      if (i >= 0) {
        this.buf = this.buf.subarray(i + this.delim.length);
        break;
      }
      this.buf = this.buf.subarray(Math.max(0, this.buf.length - this.delim.length + 1));
      if (!(await this.fill())) throw bad("the multipart body has no boundary");
    }
    while (this.buf.length < 2) if (!(await this.fill())) throw bad("the multipart body ends after a boundary");
    if (this.buf.subarray(0, 2).toString() === "--") {
      this.finished = true;
      return null;
    }
    let end: number;
    while ((end = this.buf.indexOf("\r\n\r\n")) < 0) {
      if (this.buf.length > MAX_HEADER_BYTES) throw bad(`a multipart part's headers are over ${MAX_HEADER_BYTES} bytes`);
      if (!(await this.fill())) throw bad("the multipart body ends inside a part's headers");
    }
    const head = this.buf.subarray(0, end).toString("utf8");
    this.buf = this.buf.subarray(end + 4);
    const disposition = /^content-disposition:\s*(.*)$/im.exec(head)?.[1] ?? "";
    this.bodyOpen = true;
    return { name: param(disposition, "name"), filename: param(disposition, "filename"), body: Readable.from(this.body()) };
  }

  private async *body(): AsyncGenerator<Buffer> {
    for (;;) {
      const i = this.buf.indexOf(this.delim);
      if (i >= 0) {
        if (i > 0) yield this.buf.subarray(0, i);
        this.buf = this.buf.subarray(i); // next() consumes the delimiter
        this.bodyOpen = false;
        return;
      }
      // Keep what could be the start of a delimiter split across chunks.
      const safe = this.buf.length - this.delim.length + 1;
      if (safe > 0) {
        const out = this.buf.subarray(0, safe);
        this.buf = this.buf.subarray(safe);
        yield out;
      }
      if (!(await this.fill())) throw bad("the multipart body ends inside a part; send the whole form");
    }
  }

  private async fill(): Promise<boolean> {
    if (this.ended) return false;
    const r = await this.it.next();
    if (r.done) {
      this.ended = true;
      return false;
    }
    this.buf = this.buf.length ? Buffer.concat([this.buf, r.value]) : r.value;
    return true;
  }
}

function bad(message: string): E2bError {
  return new E2bError(400, message);
}

/** A quoted or bare parameter of a Content-Disposition header; %22 %0D %0A undone (as browsers and undici escape them). */
function param(disposition: string, name: string): string | undefined {
  const m = new RegExp(`(?:^|;)\\s*${name}=(?:"((?:[^"\\\\]|\\\\.)*)"|([^;]*))`, "i").exec(disposition);
  if (!m) return undefined;
  const raw = m[1] !== undefined ? m[1].replace(/\\(.)/g, "$1") : m[2]!.trim();
  return raw.replace(/%22/g, '"').replace(/%0D/gi, "\r").replace(/%0A/gi, "\n");
}
