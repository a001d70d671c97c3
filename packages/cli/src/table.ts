// Plain-text tables for the listing commands (ls, keys ls, template ls): each column as wide as
// its widest cell, so a value longer than its header (1024 MB under MEMORY) never shifts the
// columns after it.

/** Rows (the header first) as lines, columns two spaces apart; the last column is not padded. */
export function formatTable(rows: string[][]): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, [...cell].length)));
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell + " ".repeat(widths[i]! - [...cell].length))).join("  "));
}
