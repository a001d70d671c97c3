// Rich results of a python exec, as Jupyter shows them (docs/api.md, "Rich results"): the
// value of the cell's last expression, display() calls and matplotlib figures, each a MIME
// bundle; and the cell's exception as data.

import { ProtocolError } from "./errors.js";

/** A `result` event on the wire: `data` maps MIME types to text (binary types in base64). */
export interface ExecResultEvent {
  type: "result";
  data: Record<string, string>;
  is_main_result: boolean;
}

/** An `error` event on the wire: the exception of a python exec, after its traceback on stderr. */
export interface ExecErrorEvent {
  type: "error";
  name: string;
  value: string;
  traceback: string;
}

/** The exception a python exec ended with. */
export interface ExecError {
  name: string;
  value: string;
  traceback: string;
}

/**
 * One displayed object: its MIME bundle, and getters for the common types.
 *
 * @example
 * const r = await sb.runCode("import pandas as pd\npd.DataFrame({'a': [1]})");
 * r.results[0].html; // "<div>...<table ...>"
 * r.results[0].isMainResult; // true: the cell's last expression
 */
export class Result {
  constructor(
    readonly data: Record<string, string>,
    readonly isMainResult: boolean,
  ) {}

  get text(): string | undefined { return this.data["text/plain"]; }
  get html(): string | undefined { return this.data["text/html"]; }
  get markdown(): string | undefined { return this.data["text/markdown"]; }
  get svg(): string | undefined { return this.data["image/svg+xml"]; }
  /** base64 */
  get png(): string | undefined { return this.data["image/png"]; }
  /** base64 */
  get jpeg(): string | undefined { return this.data["image/jpeg"]; }
  get latex(): string | undefined { return this.data["text/latex"]; }
  /** `application/json`, parsed. */
  get json(): unknown {
    const text = this.data["application/json"];
    return text === undefined ? undefined : JSON.parse(text);
  }

  /** The MIME types present. */
  formats(): string[] {
    return Object.keys(this.data);
  }
}

/** Checks a `result` event's fields; ts/seq are the caller's. */
export function toResultEvent(ev: Record<string, unknown>): ExecResultEvent {
  const data = ev["data"];
  if (typeof data !== "object" || data === null || Array.isArray(data) ||
      !Object.values(data).every((v) => typeof v === "string")) {
    throw new ProtocolError("exec result event without a {mime: string} data object");
  }
  return { type: "result", data: data as Record<string, string>, is_main_result: ev["is_main_result"] === true };
}

/** Checks an `error` event's fields. */
export function toErrorEvent(ev: Record<string, unknown>): ExecErrorEvent {
  const str = (k: string) => (typeof ev[k] === "string" ? (ev[k] as string) : "");
  return { type: "error", name: str("name"), value: str("value"), traceback: str("traceback") };
}
