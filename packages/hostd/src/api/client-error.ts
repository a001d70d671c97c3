// Requests Node's HTTP parser refuses before any route sees them (headers over 16 KiB, a head
// that never completes, a malformed request line or Content-Length): answered with the API's
// one error envelope, `{error, code}`, where Node would write a bare status line.
import http from "node:http";
import type { Duplex } from "node:stream";
import { errorStatus, type ErrorCode } from "@podflare/protocol";

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

/** The server's clientError handler: as Node's own, answers only a connection that has had no answer yet. */
export function answerClientError(err: ParserError, socket: Duplex, headersTimeoutMs: number): void {
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
