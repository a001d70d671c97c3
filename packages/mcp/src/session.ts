// One MCP session's sandboxes: the session's own (created lazily on the first call that
// needs it), and any other the caller names by id. At the end of the session the sandboxes
// it created are closed; persistent ones are left to their idle timeout, which freezes them.
import { HttpClient, Sandbox, SandboxExpiredError, SandboxNotFoundError, type ConnectionOptions, type SandboxOptions } from "podflare";
import { McpToolError } from "./tool-errors.js";

export interface SessionOptions {
  /** How the session's SDK client reaches hostd (host, apiKey); unset fields come from the environment. */
  connection: ConnectionOptions;
  /** Base URL the MCP client can reach, for port_url (default: the connection's host). */
  publicUrl?: string;
  log?: (msg: string) => void;
}

type Current =
  | { state: "none" }
  | { state: "open"; sandbox: Sandbox }
  | { state: "lost"; id: string; reason: string };

export class SandboxSession {
  readonly #opts: SessionOptions;
  #current: Current = { state: "none" };
  #creating: Promise<Sandbox> | undefined;
  /** Sandboxes reached in this session, by id. */
  readonly #known = new Map<string, Sandbox>();
  /** Ids this session created: closed at its end. */
  readonly #owned = new Set<string>();
  #ended = false;

  constructor(opts: SessionOptions) {
    this.#opts = opts;
  }

  get connection(): ConnectionOptions {
    return this.#opts.connection;
  }

  get currentId(): string | undefined {
    return this.#current.state === "open" ? this.#current.sandbox.id : undefined;
  }

  publicUrl(): string {
    return (this.#opts.publicUrl ?? new HttpClient(this.#opts.connection).host).replace(/\/+$/, "");
  }

  /**
   * The sandbox a tool acts on: `id` when given, else the session's own, created on first use.
   * A session sandbox that died is reported, and replaced only when `recreate` is true.
   */
  async sandbox(id?: string, recreate = false): Promise<Sandbox> {
    this.#assertLive();
    if (id !== undefined) return this.#byId(id);
    const cur = this.#current;
    if (cur.state === "open") return cur.sandbox;
    if (cur.state === "lost" && !recreate) throw lostError(cur.id, cur.reason);
    this.#creating ??= this.create({}).finally(() => (this.#creating = undefined));
    return this.#creating;
  }

  /** Creates a sandbox and makes it the session's own; the previous one stays open until the session ends. */
  async create(opts: SandboxOptions): Promise<Sandbox> {
    this.#assertLive();
    const sb = await Sandbox.create({ ...this.#opts.connection, ...opts });
    this.adopt(sb, { owned: true, current: true });
    return sb;
  }

  /**
   * Makes `sb` known to the session (owned: closed at its end). A sandbox the session made
   * after it ended (a create, fork or resume that was under way) is closed now instead.
   */
  adopt(sb: Sandbox, how: { owned: boolean; current: boolean }): void {
    if (this.#ended) {
      if (how.owned) void sb.close().catch((err: unknown) => this.#opts.log?.(`mcp: closing ${sb.id} after the session ended: ${(err as Error).message}`));
      throw new McpToolError("sandbox_closed", "this MCP session ended while the call ran; what it made is closed; start a new session");
    }
    this.#known.set(sb.id, sb);
    if (how.owned) this.#owned.add(sb.id);
    if (how.current) this.#current = { state: "open", sandbox: sb };
  }

  /** The sandbox is gone by the caller's own doing (closed, frozen, merged away). */
  forget(id: string): void {
    this.#known.delete(id);
    this.#owned.delete(id);
    if (this.#current.state === "open" && this.#current.sandbox.id === id) this.#current = { state: "none" };
  }

  /**
   * Called with every error a tool met on `sb`: when the session's own sandbox turns out to be
   * gone (reaped, expired, closed from outside), the session remembers it and says so.
   */
  async failed(sb: Sandbox, err: unknown): Promise<unknown> {
    if (!isGone(err)) return err;
    // The 404 may be about another sandbox the call named (diff's other_id, merge_into's
    // winner_id): ask about this one before declaring it dead.
    try {
      await sb.info();
      return err;
    } catch (infoErr) {
      if (!isGone(infoErr)) return err;
    }
    this.#known.delete(sb.id);
    this.#owned.delete(sb.id);
    if (this.#current.state === "open" && this.#current.sandbox.id === sb.id) {
      const reason = (err as Error).message;
      this.#current = { state: "lost", id: sb.id, reason };
      return lostError(sb.id, reason);
    }
    return err;
  }

  /** Ends the session: closes the sandboxes it created (not persistent ones). Idempotent. */
  async end(): Promise<void> {
    if (this.#ended) return;
    this.#ended = true;
    await this.#creating?.catch(() => undefined);
    const closing: Promise<void>[] = [];
    for (const id of this.#owned) {
      const sb = this.#known.get(id);
      if (!sb || sb.applied?.persistent) continue;
      closing.push(sb.close().catch((err: Error) => this.#opts.log?.(`mcp: closing ${id} at session end failed: ${err.message}`)));
    }
    await Promise.all(closing);
    this.#owned.clear();
    this.#known.clear();
    this.#current = { state: "none" };
  }

  async #byId(id: string): Promise<Sandbox> {
    const known = this.#known.get(id);
    if (known?.isOpen) return known;
    const sb = await Sandbox.connect(id, this.#opts.connection);
    this.#known.set(id, sb);
    return sb;
  }

  #assertLive(): void {
    if (this.#ended) throw new McpToolError("sandbox_closed", "this MCP session has ended; start a new session");
  }
}

function isGone(err: unknown): boolean {
  return err instanceof SandboxNotFoundError || err instanceof SandboxExpiredError;
}

function lostError(id: string, reason: string): McpToolError {
  return new McpToolError(
    "sandbox_not_found",
    `the session's sandbox ${id} is gone (${reason}); its state is lost. Call create_sandbox, or pass recreate: true, to start a fresh one`,
  );
}
