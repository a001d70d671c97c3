// Gathers an exec's rich results and exception for runCode, calling the streaming callbacks
// (onResult, onError) as the events arrive.

import type { ExecErrorEvent, ExecResultEvent } from "./results.js";
import { Result, type ExecError } from "./results.js";
import type { RunOptions } from "./types.js";

export class RichCollector {
  private readonly results: Result[] = [];
  private error: ExecError | undefined;

  constructor(private readonly opts: Pick<RunOptions, "onResult" | "onError"> = {}) {}

  take(ev: ExecResultEvent | ExecErrorEvent): void {
    if (ev.type === "result") {
      const r = new Result(ev.data, ev.is_main_result);
      this.results.push(r);
      this.opts.onResult?.(r);
    } else {
      this.error = { name: ev.name, value: ev.value, traceback: ev.traceback };
      this.opts.onError?.(this.error);
    }
  }

  fields(): { results: Result[]; error?: ExecError } {
    return this.error ? { results: this.results, error: this.error } : { results: this.results };
  }
}
