// Requests Node's HTTP parser refuses before any route sees them (headers over 16 KiB, a head
// that never completes, a malformed request line or Content-Length): answered with the API's
// one error envelope, `{error, code}`, where Node would write a bare status line.
import http from "node:http";
import type { Duplex } from "node:stream";
import { errorStatus, type ErrorCode } from "@podflare/protocol";
import { CLOSE_LINGER_MS } from "./http.js";

type ParserError = Error & { code?: string; reason?: string };

/** The answer for what the parser refused: code and a message that says what to change. */
export function refusalOf(err: ParserError, headersTimeoutMs: number): { code: ErrorCode; message: string } {
  switch (err.code) {
    case "HPE_HEADER_OVERFLOW":
      return { code: "headers_too_large", message: `the request's headers are over ${http.maxHeaderSize} bytes (or too many); send fewer or shorter headers` };
    case "ERR_HTTP_REQUEST_TIMEOUT":
      return { code: "request_timeout", message: `the request's head did not arrive within ${headersTimeoutMs} ms (PODFLARE_HTTP_HEADERS_TIMEOUT_MS); send it whole, at once` };
    case "HPE_CHUNK_EXTENSIONS_OVERFLOW":
      return { code: "payload_too_large", message: "a chunk's extensions are too large; send the body without chunk extensions" };
    default:
      return { code: "bad_request", message: `not a valid HTTP/1.1 request (${err.code ?? "parse error"}: ${err.reason ?? err.message}); check the client` };
  }
}


/**
 * The server's clientError handler: as Node's own, answers only a connection that has had no
 * answer yet. A whole request parsed before the bad bytes and still being answered is answered first
 * and the connection then closed, with no 400 for the bad bytes: the 400 took the place of its
 * answer, so a create that ran was answered as malformed and its sandbox never named (outside
 * tester tn).
 */
export function answerClientError(err: ParserError, socket: Duplex, headersTimeoutMs: number): void {
  const pending = (socket as Duplex & { _httpMessage?: http.ServerResponse | null })._httpMessage;
  // Only bytes after a whole request: a client that left in the middle of a body (a reset, or an
  // end the parser calls HPE_INVALID_EOF_STATE) is gone, and its request is ended with it.
  if (err.code !== "ECONNRESET" && pending && pending.req?.complete === true && !pending.writableFinished && !pending.destroyed) {
    const close = (): void => {
      socket.end();
      socket.on("data", () => undefined); // read and dropped until it closes (http.ts, answerThenClose, says why)
      setTimeout(() => socket.destroy(), CLOSE_LINGER_MS).unref();
    };
    pending.once("finish", close);
    pending.once("close", () => (pending.writableFinished ? undefined : socket.destroy()));
    return;
  }
  const untouched = (socket as Duplex & { bytesWritten?: number }).bytesWritten === 0;
  if (err.code !== "ECONNRESET" && socket.writable && untouched) {
    const { code, message } = refusalOf(err, headersTimeoutMs);
    const status = errorStatus[code];
    const body = JSON.stringify({ error: message, code });
    socket.write(
      `HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? ""}\r\ncontent-type: application/json\r\n` +
        `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}
