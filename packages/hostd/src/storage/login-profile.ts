// Debian's /etc/profile runs two programs on every login shell: `id -u` (root or not) and
// `run-parts --list` (which /etc/profile.d scripts to read). E2B's SDK starts every
// commands.run as `bash -l -c …`, so those two were most of a command's start-up (2.5 ms against
// 1.0 ms without them, measured in a sandbox). Here the shell does both itself, with the same
// outcome: bash's own $EUID (other shells still ask `id -u`), and a glob filtered to the names
// run-parts' --regex lists. A profile that is not Debian's, or already edited, is left alone.

const ID_TEST = '"$(id -u)"';
const RUN_PARTS_LOOP = `  for i in $(run-parts --list --regex '^[a-zA-Z0-9_][a-zA-Z0-9._-]*\\.sh$' /etc/profile.d); do
    if [ -r $i ]; then
      . $i
    fi
  done`;
const GLOB_LOOP = `  # The scripts run-parts --list --regex '^[a-zA-Z0-9_][a-zA-Z0-9._-]*\\.sh$' would name (podflare).
  for i in /etc/profile.d/*.sh; do
    case \${i##*/} in
      [!a-zA-Z0-9_]* | *[!a-zA-Z0-9._-]*) continue ;;
    esac
    if [ -r "$i" ]; then
      . "$i"
    fi
  done`;

/** Debian's /etc/profile without its subprocesses; null when `text` is not that profile. */
export function fasterLoginProfile(text: string): string | null {
  if (!text.includes(RUN_PARTS_LOOP) || !text.includes(ID_TEST)) return null;
  // Replacer functions: the new text has `$'` in it, which a replacement string would expand.
  return text.replaceAll(ID_TEST, () => '"${EUID:-$(id -u)}"').replace(RUN_PARTS_LOOP, () => GLOB_LOOP);
}
