// envd expands a leading `~` in the paths it is given to the user's home; everything in a
// Podflare sandbox runs as root, whose home is /root.
const HOME = "/root";

/** `~` → /root, `~/x` → /root/x; any other path as given (`~user` included). */
export function expandHome(p: string): string {
  if (p === "~") return HOME;
  return p.startsWith("~/") ? `${HOME}${p.slice(1)}` : p;
}
