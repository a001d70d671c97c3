// Plain-text tables for the listing commands (ls, keys ls, template ls): each column as wide as
// its widest cell, so a value longer than its header (1024 MB under MEMORY) never shifts the
// columns after it.

/**
 * Rows (the header first) as lines, columns two spaces apart; the last column is not padded.
 * Control characters in a cell are shown escaped: a name a client chose must not move the
 * cursor or recolour the operator's terminal.
 */
export function formatTable(rawRows: string[][]): string[] {
  const rows = rawRows.map((row) => row.map(printable));
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, [...cell].length)));
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell + " ".repeat(widths[i]! - [...cell].length))).join("  "));
}

/** `s` with C0/C1 control characters and DEL as `\xNN` (a backslash itself as `\\`, so the escape is unambiguous). */
export function printable(s: string): string {
  return s.replace(/[\\\x00-\x1f\x7f-\x9f]/g, (c) => (c === "\\" ? "\\\\" : `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`));
}
