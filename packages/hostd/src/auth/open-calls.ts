// The connections each key has open right now: a request still being answered (an exec's
// stream, a process stream, an MCP event stream, an E2B Connect stream) or an upgraded one (a
// PTY, a WebSocket to a port). A revoked key's are closed at once (revocations.ts): checking the
// key on each new request does not end what began before the revocation.
import type { ServerResponse } from "node:http";
import type { Duplex } from "node:stream";

export class OpenCalls {
  private readonly byOwner = new Map<string, Set<Duplex>>();

  /**
   * A request of `owner` on `socket`, until its answer is done. Only the request: a keep-alive
   * connection (an edge's, say) may carry other keys' requests afterwards.
   */
  trackRequest(owner: string, socket: Duplex | null | undefined, res: ServerResponse): void {
    if (!socket) return; // an in-process call (api/local-api.ts): its outer request is tracked
    const untrack = this.add(owner, socket);
    res.once("close", untrack);
  }

  /** A connection upgraded for `owner` (PTY, WebSocket): all of it is the owner's. */
  trackSocket(owner: string, socket: Duplex): void {
    socket.once("close", this.add(owner, socket));
  }

  /** Closes every connection of `owner` but `except` (the call doing it); how many it closed. */
  closeAll(owner: string, except?: Duplex): number {
    const sockets = this.byOwner.get(owner);
    if (!sockets) return 0;
    let closed = 0;
    for (const socket of [...sockets]) {
      if (socket === except) continue;
      sockets.delete(socket);
      socket.destroy();
      closed++;
    }
    if (sockets.size === 0) this.byOwner.delete(owner);
    return closed;
  }

  /** How many connections `owner` has open (for tests and metrics). */
  count(owner: string): number {
    return this.byOwner.get(owner)?.size ?? 0;
  }

  private add(owner: string, socket: Duplex): () => void {
    let set = this.byOwner.get(owner);
    if (!set) this.byOwner.set(owner, (set = new Set()));
    set.add(socket);
    return () => {
      const now = this.byOwner.get(owner);
      if (!now?.delete(socket)) return;
      if (now.size === 0) this.byOwner.delete(owner);
    };
  }
}
