// Drawing template build progress for a person: one redrawn line with a bar on a TTY,
// plain lines (one per phase, plus every quarter of a counted phase) otherwise.

import type { TemplateProgress } from "./mmdebstrap.js";

export interface ProgressStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface ProgressRenderer {
  (p: TemplateProgress): void;
  /** End the line (on a TTY) and print a closing message if given. */
  end(message?: string): void;
}

const BAR = 24;

function bar(done: number, total: number): string {
  const filled = total > 0 ? Math.round((Math.min(done, total) / total) * BAR) : 0;
  return `[${"#".repeat(filled)}${".".repeat(BAR - filled)}]`;
}

export function formatProgress(p: TemplateProgress, width = 100): string {
  const counted = p.done !== undefined && p.total !== undefined && p.total > 0;
  const count = counted ? ` ${bar(p.done!, p.total!)} ${p.done}/${p.total}` : p.done !== undefined ? ` ${p.done}` : "";
  const line = `${p.template}: ${p.phase.padEnd(11)}${count}  ${p.message}`;
  return line.length > width ? line.slice(0, width - 1) + "…" : line;
}

export function renderProgress(stream: ProgressStream): ProgressRenderer {
  const tty = Boolean(stream.isTTY);
  let lastPhase: string | null = null;
  let lastQuarter = -1;
  let open = false; // a TTY line is drawn and not yet ended

  const render = ((p: TemplateProgress) => {
    if (tty) {
      const width = Math.max(40, (stream.columns ?? 100) - 1);
      const line = formatProgress(p, width);
      // \x1b[K clears what a longer previous line left behind.
      stream.write(`\r${line}\x1b[K`);
      open = true;
      if (p.phase === "done") {
        stream.write("\n");
        open = false;
      }
      return;
    }
    const counted = p.done !== undefined && p.total !== undefined && p.total > 0;
    const quarter = counted ? Math.floor((4 * p.done!) / p.total!) : -1;
    if (p.phase !== lastPhase || (counted && quarter > lastQuarter)) {
      stream.write(formatProgress(p, 200) + "\n");
      lastPhase = p.phase;
      lastQuarter = quarter;
    }
  }) as ProgressRenderer;

  render.end = (message?: string) => {
    if (open) stream.write("\n");
    open = false;
    if (message) stream.write(message + "\n");
  };
  return render;
}
