// Connections that each send all but the last byte of a large body and then wait: the flood a
// per-key body budget must refuse. Each client reads its socket only after `readAfterMs`, as a
// busy client does: a refusal must reach it even so (an answer followed at once by a close, with
// the rest of the body unread, was a reset that lost the 429; CI, 2026-12-07).
import net from "node:net";
import { hostdUrl } from "./api.js";

export interface StalledFlood {
  /** What each connection has read so far. */
  answers: string[];
  /** Whether hostd has closed each connection (its end or a reset). */
  closed: boolean[];
  /** Each connection's answer (status line and error code, or "none") and whether it was closed. */
  describe(): string;
  close(): void;
}

/** `count` connections, each sending `head(bodyBytes)` and then all but `heldBackBytes` of its body. */
export function stalledBodies(count: number, head: (bodyBytes: number) => string, bodyBytes: number, opts: { readAfterMs: number; firstBodyText?: string; heldBackBytes?: number }): StalledFlood {
  const answers: string[] = [];
  const closed: boolean[] = [];
  const sockets: net.Socket[] = [];
  const prefix = Buffer.from(opts.firstBodyText ?? "");
  const rest = Buffer.alloc(bodyBytes - prefix.length - (opts.heldBackBytes ?? 1), 0x20);
  for (let i = 0; i < count; i++) {
    const s = net.connect(Number(new URL(hostdUrl()).port), "127.0.0.1");
    sockets.push(s);
    answers.push("");
    closed.push(false);
    s.on("error", () => undefined);
    s.on("close", () => (closed[i] = true));
    s.on("data", (d: Buffer) => (answers[i] += d.toString("latin1")));
    s.write(head(bodyBytes));
    s.write(Buffer.concat([prefix, rest]));
    s.pause();
  }
  const reading = setTimeout(() => sockets.forEach((s) => s.resume()), opts.readAfterMs);
  return {
    answers,
    closed,
    describe: () => answers.map((a, i) => `${a.split("\r\n")[0] || "none"}${/"code":"(\w+)"/.exec(a)?.[0] ?? ""}${closed[i] ? " (closed)" : ""}`).join("; "),
    close: () => {
      clearTimeout(reading);
      sockets.forEach((s) => s.destroy());
    },
  };
}
