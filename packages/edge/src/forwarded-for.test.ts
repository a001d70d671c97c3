// X-Forwarded-For: the edge appends its caller on every request it relays, WebSocket upgrades
// included (they went without it). A stand-in origin on loopback records what it got.
import assert from "node:assert/strict";
import http from "node:http";
import net from "node:net";
import type { AddressInfo } from "node:net";
import { after, test } from "node:test";
import { newTaggedId, regionTagFor } from "@podflare/protocol";
import { startEdge } from "./index.js";

const seen: { upgrade?: http.IncomingHttpHeaders; request?: http.IncomingHttpHeaders } = {};
const origin = http.createServer((req, res) => {
  if (req.url === "/v1/healthz") {
    res.writeHead(200, { "x-podflare-region": "one", "x-podflare-region-tag": regionTagFor("one") }).end("ok");
    return;
  }
  seen.request = req.headers;
  res.writeHead(200, { "content-type": "application/json" }).end("{}");
});
origin.on("upgrade", (req: http.IncomingMessage, socket: net.Socket) => {
  seen.upgrade = req.headers;
  socket.end("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n");
});
await new Promise<void>((r) => origin.listen(0, "127.0.0.1", () => r()));
const edge = await startEdge(
  { regions: [{ name: "one", url: `http://127.0.0.1:${(origin.address() as AddressInfo).port}` }], addr: "127.0.0.1:0", probeIntervalMs: 60_000, probeTimeoutMs: 2000, connectTimeoutMs: 2000, maxCreateBodyBytes: 4096 },
  { log: () => undefined },
);
after(async () => {
  await edge.close();
  origin.closeAllConnections();
  origin.close();
});

const id = newTaggedId("sbx", regionTagFor("one"));

test("a relayed request carries X-Forwarded-For: what the caller sent, then the caller", async () => {
  await (await fetch(`${edge.url}/v1/sandboxes/${id}`, { headers: { "x-forwarded-for": "203.0.113.7" } })).text();
  assert.equal(seen.request?.["x-forwarded-for"], "203.0.113.7, 127.0.0.1");
});

test("a WebSocket upgrade carries X-Forwarded-For too", async () => {
  const port = new URL(edge.url).port;
  const answer = await new Promise<string>((resolve, reject) => {
    const s = net.connect(Number(port), "127.0.0.1", () => {
      s.write(`GET /v1/sandboxes/${id}/ports/8080/ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nX-Forwarded-For: 198.51.100.1\r\n\r\n`);
    });
    let got = "";
    s.on("data", (d) => {
      got += d.toString();
      if (got.includes("\r\n\r\n")) {
        s.destroy();
        resolve(got);
      }
    });
    s.on("error", reject);
  });
  assert.match(answer, /^HTTP\/1\.1 101/);
  assert.equal(seen.upgrade?.["x-forwarded-for"], "198.51.100.1, 127.0.0.1");
  assert.equal(seen.upgrade?.upgrade, "websocket");
});
