// WebSockets (the port proxy's, or any future upgrade): the edge opens its own connection to
// the region, sends the request, and on 101 splices the two sockets byte for byte. A refusal
// (404, 401, …) is relayed as the origin wrote it.
import type http from "node:http";
import type { Duplex } from "node:stream";
import type { PodflareError } from "@podflare/protocol";
import { rawErrorAnswer } from "./answer.js";
import { forwardedFor, originPath } from "./origin-request.js";
import type { Region } from "./regions.js";

function head(statusLine: string, headers: http.IncomingHttpHeaders): string {
  const lines = [statusLine];
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined) continue;
    for (const one of Array.isArray(v) ? v : [v]) lines.push(`${k}: ${one}`);
  }
  return lines.join("\r\n") + "\r\n\r\n";
}

export function rawError(client: Duplex, err: PodflareError): void {
  client.end(rawErrorAnswer(err, true));
}

export function forwardUpgrade(
  region: Region,
  req: http.IncomingMessage,
  client: Duplex,
  clientHead: Buffer,
  unreachable: (region: Region, reason: string) => PodflareError,
  broken: (region: Region, reason: string) => PodflareError,
): Promise<number> {
  return new Promise((resolve) => {
    client.on("error", () => {});
    client.pause(); // what the caller sends before the origin's 101 waits here (pipe resumes)
    const headers: http.OutgoingHttpHeaders = { ...req.headers };
    const xff = forwardedFor(req.headers, req.socket.remoteAddress);
    if (xff) headers["x-forwarded-for"] = xff;
    const up = region.transport.request({
      protocol: region.url.protocol,
      hostname: region.url.hostname.replace(/^\[(.*)\]$/, "$1"),
      port: region.url.port,
      method: req.method,
      path: originPath(region, req.url ?? "/"),
      headers,
      agent: false, // an upgraded socket never goes back to a pool
    });
    up.on("upgrade", (res, socket, upHead) => {
      socket.on("error", () => client.destroy());
      client.on("error", () => socket.destroy());
      client.write(head(`HTTP/1.1 101 ${res.statusMessage ?? "Switching Protocols"}`, res.headers));
      if (upHead.length) client.write(upHead);
      if (clientHead.length) socket.write(clientHead);
      socket.pipe(client);
      client.pipe(socket);
      client.on("close", () => socket.destroy());
      socket.on("close", () => client.destroy());
      resolve(101);
    });
    up.on("response", (res) => {
      client.write(head(`HTTP/1.1 ${res.statusCode} ${res.statusMessage ?? ""}`, { ...res.headers, "transfer-encoding": undefined, connection: "close" }));
      res.pipe(client);
      resolve(res.statusCode ?? 502);
    });
    let connected = false;
    up.on("socket", (socket) => socket.once("connect", () => (connected = true)));
    up.on("error", (err: NodeJS.ErrnoException) => {
      const reason = err.code ?? "connection error";
      const e = connected ? broken(region, reason) : unreachable(region, reason);
      rawError(client, e);
      resolve(e.status);
    });
    up.end();
  });
}
