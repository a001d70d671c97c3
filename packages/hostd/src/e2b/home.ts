// E2B's sandboxes work in the default user's home, /home/user: envd takes a relative path from
// it, expands a leading `~` to it, and starts commands and the code interpreter there. Programs
// written for E2B name it outright (`files.write("/home/user/data.csv")`, then
// `pd.read_csv("data.csv")`), so the E2B surface does the same here; our own API's home stays
// /root. Every template has the directory (storage/rootfs.ts).
import path from "node:path";

export const E2B_HOME = "/home/user";

/** `~` and `~/x` → under /home/user, a relative path → from /home/user; an absolute one as given (`~user` is relative). */
export function e2bPath(p: string): string {
  if (p === "~") return E2B_HOME;
  if (p.startsWith("~/")) return path.posix.join(E2B_HOME, p.slice(2));
  return path.posix.isAbsolute(p) ? p : path.posix.join(E2B_HOME, p);
}
