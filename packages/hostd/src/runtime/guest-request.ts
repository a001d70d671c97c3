// One process or filesystem request to the guest kernel on a connection of its own: send a
// frame, take the answer. The guest is untrusted: a wrong answer or silence is an error.
import { PodflareError, type GuestFrame, type HostFrame } from "@podflare/protocol";
import { guestError } from "./files.js";
import type { GuestConnection } from "./guest-connection.js";

type Request = HostFrame extends infer F ? (F extends { id: number } ? Omit<F, "id"> : never) : never;

/** Sends `frame` and resolves with the answer of one of `expect` types; closes the connection. */
export async function guestRequest<T extends GuestFrame["t"]>(
  conn: GuestConnection,
  frame: Request,
  expect: T[],
  replyTimeoutMs: number,
  body?: Buffer,
): Promise<Extract<GuestFrame, { t: T }>> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await new Promise((resolve, reject) => {
      timer = setTimeout(
        () => reject(new PodflareError("runtime_error", `the sandbox's guest kernel did not answer ${frame.t} within ${replyTimeoutMs} ms; try again`)),
        replyTimeoutMs,
      );
      const id = conn.open((f) => {
        const h = f.header;
        if (h.t === "error") reject(guestError(h));
        else if ((expect as string[]).includes(h.t)) resolve(h as Extract<GuestFrame, { t: T }>);
        else reject(new PodflareError("runtime_error", `the sandbox's guest kernel answered ${frame.t} with ${JSON.stringify(h.t)}; try again or use a fresh sandbox`));
      });
      conn.onClose(() => reject(new PodflareError("runtime_error", `the sandbox's guest kernel went away during ${frame.t}; try again`)));
      conn.send({ ...frame, id } as HostFrame, body);
    });
  } finally {
    clearTimeout(timer);
    conn.close();
  }
}
