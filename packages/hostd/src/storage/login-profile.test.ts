// Debian's /etc/profile and ours (login-profile.ts) read by real shells: the same PATH, the same
// /etc/profile.d scripts in the same order, and no subprocess in ours (for bash).
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fasterLoginProfile } from "./login-profile.js";

/** Debian 12's /etc/profile (base-files), as in the template tarball. */
const DEBIAN = `# /etc/profile: system-wide .profile file for the Bourne shell (sh(1))
# and Bourne compatible shells (bash(1), ksh(1), ash(1), ...).

if [ "$(id -u)" -eq 0 ]; then
  PATH="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
else
  PATH="/usr/local/bin:/usr/bin:/bin:/usr/local/games:/usr/games"
fi
export PATH

if [ "\${PS1-}" ]; then
  if [ "\${BASH-}" ] && [ "$BASH" != "/bin/sh" ]; then
    # The file bash.bashrc already sets the default PS1.
    # PS1='\\h:\\w\\$ '
    if [ -f /etc/bash.bashrc ]; then
      . /etc/bash.bashrc
    fi
  else
    if [ "$(id -u)" -eq 0 ]; then
      PS1='# '
    else
      PS1='$ '
    fi
  fi
fi

if [ -d /etc/profile.d ]; then
  for i in $(run-parts --list --regex '^[a-zA-Z0-9_][a-zA-Z0-9._-]*\\.sh$' /etc/profile.d); do
    if [ -r $i ]; then
      . $i
    fi
  done
  unset i
fi
`;

/** What a login shell reading `profile` ends up with, its profile.d being `dir`. */
function outcome(shell: string, profile: string, dir: string): string {
  const file = join(dir, "..", `profile-${Math.random().toString(16).slice(2)}`);
  writeFileSync(file, profile.replaceAll("/etc/profile.d", dir));
  return execFileSync(shell, ["-c", `. ${file}; echo "$PATH|$SEEN"`], { encoding: "utf8", env: { HOME: "/nonexistent", PATH: "/usr/bin:/bin" } });
}

test("ours gives what Debian's gives, in bash and in sh: PATH, and which profile.d scripts run in which order", () => {
  const ours = fasterLoginProfile(DEBIAN);
  assert.ok(ours, "Debian's profile is recognised");
  assert.doesNotMatch(ours, /\$\(run-parts/);
  assert.doesNotMatch(ours, /"\$\(id -u\)"/);
  const root = mkdtempSync(join(tmpdir(), "podflare-profile-"));
  try {
    const dir = join(root, "profile.d");
    mkdirSync(dir);
    // Names run-parts' regex takes, and names it leaves out.
    for (const name of ["b.sh", "a.sh", "_u.sh", "9-x.sh", "Z.sh", ".hidden.sh", "-dash.sh", "with space.sh", "x.txt", "y.sh~", "ba+d.sh"]) {
      writeFileSync(join(dir, name), `SEEN="$SEEN ${name}"\n`);
    }
    for (const shell of ["/bin/bash", "/bin/sh"]) {
      const want = outcome(shell, DEBIAN, dir);
      assert.equal(outcome(shell, ours, dir), want, shell);
      assert.match(want, /^\/usr\/local\/sbin:.*\| 9-x\.sh Z\.sh _u\.sh a\.sh b\.sh\n$/, `${shell}: the test's own premise (root's PATH, run-parts' choice): ${want}`);
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test("a profile that is not Debian's is left alone", () => {
  assert.equal(fasterLoginProfile("export PATH=/bin\n"), null);
  assert.equal(fasterLoginProfile(fasterLoginProfile(DEBIAN)!), null, "already ours");
});
