// The guest kernel's first frame says which frame protocol it speaks. A kernel from another
// release (one kept running across a hostd upgrade) would misread frames; it is refused.
import { GUEST_PROTOCOL_VERSION, PodflareError, type GuestFrame } from "@podflare/protocol";

export type Hello = Extract<GuestFrame, { t: "hello" }>;

/** Returns the hello when its version is ours; otherwise a runtime_error naming both versions. */
export function checkHello(hello: Hello): Hello {
  if (hello.version === GUEST_PROTOCOL_VERSION) return hello;
  throw new PodflareError(
    "runtime_error",
    `the sandbox's guest kernel speaks frame protocol version ${JSON.stringify(hello.version)}, but this hostd speaks version ${GUEST_PROTOCOL_VERSION}: ` +
      "the kernel comes from another release (one kept running across a hostd upgrade). Restart its REPL (POST /v1/sandboxes/:id/restart_repl) or use a new sandbox",
  );
}
