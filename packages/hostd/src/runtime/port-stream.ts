// A byte stream to a TCP port inside a sandbox, for the port proxy. It goes through the guest
// kernel's Unix socket, not over IP: the guest connects to its own loopback (so servers bound
// to 127.0.0.1 and sandboxes without egress work) and then relays raw bytes.
import type net from "node:net";
import { FrameDecoder, PodflareError, encodeFrame, type GuestFrame } from "@podflare/protocol";
import type { RuntimeSandbox } from "./types.js";

/** Opens a stream to `port` inside the sandbox. Throws PodflareError with the proxy's codes. */
export async function openPortStream(sb: RuntimeSandbox, port: number, timeoutMs: number): Promise<net.Socket> {
  let conn;
  try {
    conn = await sb.openConnection();
  } catch (err) {
    throw new PodflareError("runtime_error", `cannot reach the sandbox's guest kernel to connect to port ${port}: ${(err as Error).message}; try again`);
  }
  const socket = conn.takeSocket();
  // Errors show as 'close' to whoever holds the stream; never as an unhandled 'error'.
  socket.on("error", () => {});
  return new Promise<net.Socket>((resolve, reject) => {
    const decoder = new FrameDecoder<GuestFrame>();
    const timer = setTimeout(
      () => fail(new PodflareError("upstream_timeout", `the connection to port ${port} inside the sandbox did not open within ${timeoutMs} ms; is the server there overloaded or stopped (paused)?`)),
      timeoutMs,
    );
    const cleanup = () => {
      clearTimeout(timer);
      socket.off("data", onData);
      socket.off("error", onEnd);
      socket.off("close", onEnd);
    };
    const fail = (err: PodflareError) => {
      cleanup();
      socket.destroy();
      reject(err);
    };
    const onEnd = () => fail(new PodflareError("runtime_error", "the sandbox's guest kernel went away while connecting to the port; try again"));
    const onData = (chunk: Buffer) => {
      let frames;
      try {
        frames = decoder.push(chunk, 1);
      } catch {
        return fail(new PodflareError("runtime_error", "the guest kernel sent a malformed answer to the port connection"));
      }
      const h = frames[0]?.header;
      if (!h) return;
      if (h.t === "tcp_connected") {
        cleanup();
        socket.pause();
        // Whatever the server sent right away is the start of the raw stream.
        const rest = decoder.takeBuffered();
        if (rest.length) socket.unshift(rest);
        resolve(socket);
      } else if (h.t === "error" && h.code === "connection_refused") {
        fail(notListening(port));
      } else if (h.t === "error" && h.code === "timed_out") {
        fail(new PodflareError("upstream_timeout", `port ${port} inside the sandbox did not accept the connection in time: ${h.message}`));
      } else if (h.t === "error") {
        fail(new PodflareError("upstream_error", `cannot connect to port ${port} inside the sandbox: ${h.message}`));
      } else {
        fail(new PodflareError("runtime_error", `the guest kernel answered the port connection with ${h.t}`));
      }
    };
    socket.on("data", onData);
    socket.on("error", onEnd);
    socket.on("close", onEnd);
    socket.resume();
    socket.write(encodeFrame({ t: "tcp_connect", id: 1, port }));
  });
}

export function notListening(port: number): PodflareError {
  return new PodflareError(
    "port_not_listening",
    `nothing listens on port ${port} inside the sandbox; start a server bound to 0.0.0.0 or 127.0.0.1 on port ${port} in the sandbox (e.g. \`python3 -m http.server ${port} &\` in bash) and retry`,
  );
}
