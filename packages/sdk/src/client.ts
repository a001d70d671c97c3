// `Client`: the public face of HttpClient, as the hosted SDK's `Client` is: one configured
// endpoint shared by many sandboxes (`Sandbox.create({ client })`). Connections are pooled per
// process anyway (http.ts); a Client also shares the settings and keeps them in one place.

import { HttpClient } from "./http.js";
import type { OptionNames } from "./options.js";
import type { ConnectionOptions } from "./types.js";

/**
 * Connection settings (host, apiKey, timeoutMs, region, traceparent) shared by every sandbox
 * made with it. Its options and defaults are `Sandbox.create`'s; a sandbox made with
 * `{ client }` takes them all from it.
 *
 * @example
 * import { Client, Sandbox } from "podflare";
 * const client = new Client({ host: "http://127.0.0.1:7070" });
 * const a = await Sandbox.create({ client });
 * const b = await Sandbox.create({ client });
 */
export class Client extends HttpClient {
  constructor(opts: ConnectionOptions = {}) {
    super(opts);
  }
}

/** The `client` option of the calls that reach the server. */
export interface ClientOption {
  /** A shared {@link Client}; connection options beside it must be left out (or equal its own). */
  client?: Client;
}

/** The options of connect, resume, listSandboxes and usage (options.ts). */
export const CONNECTION_OPTIONS = { host: true, region: true, apiKey: true, timeoutMs: true, traceparent: true, client: true } as const satisfies OptionNames<ConnectionOptions & ClientOption>;

/** The HttpClient a call uses: the given client, or one made from the options. */
export function httpFor(opts: ConnectionOptions & ClientOption): HttpClient {
  const { client } = opts;
  if (client === undefined) return new HttpClient(opts);
  if (!(client instanceof HttpClient)) throw new TypeError("client must be a podflare Client (new Client({ host }))");
  const own: Record<string, unknown> = { region: client.region, traceparent: client.traceparent };
  const given = (["host", "apiKey", "timeoutMs", "region", "traceparent"] as const).filter(
    (k) => opts[k] !== undefined && opts[k] !== own[k],
  );
  if (given.length) {
    throw new TypeError(`a sandbox made with { client } takes its connection settings from the Client: pass ${given.join(", ")} to new Client({ … }) instead`);
  }
  return client;
}
