// What the guest kernel is started with inside a sandbox: its command line and environment.

export const KERNEL_ARGV = [
  "/usr/bin/python3",
  "-c",
  "import sys; sys.path.insert(0, '/.podflare/guest'); from podflare_guest.main import main; del sys.path[0]; main()",
];

const baseEnv: Record<string, string> = {
  PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
  HOME: "/root",
  LANG: "C.UTF-8",
  TERM: "xterm",
  PYTHONUNBUFFERED: "1",
  // The sandbox is the user's own throwaway box: `pip install x` installs, as Podflare's
  // documented programs expect, instead of Debian's PEP 668 refusal (externally-managed).
  PIP_BREAK_SYSTEM_PACKAGES: "1",
};

/**
 * Environment for the guest kernel alone: glibc's malloc asks for transparent huge pages
 * (madvise) for its heap and large blocks, so fork copies one entry per 2 MB instead of 512
 * (a 500 MB heap: 14 ms -> 0.5 ms in os.fork; docs/fork.md). The kernel drops the names listed
 * in PODFLARE_KERNEL_ONLY_ENV from its environment at start, so user code and its
 * subprocesses see only what the user set. A user's own GLIBC_TUNABLES wins and stays.
 */
function kernelOnlyEnv(userEnv: Record<string, string> | undefined): Record<string, string> {
  if (userEnv && "GLIBC_TUNABLES" in userEnv) return {};
  return { GLIBC_TUNABLES: "glibc.malloc.hugetlb=1", PODFLARE_KERNEL_ONLY_ENV: "GLIBC_TUNABLES" };
}

/** The kernel's whole environment in sandbox `id`; the user's variables win. */
export function kernelEnv(id: string, userEnv: Record<string, string> | undefined): Record<string, string> {
  return { ...baseEnv, HOSTNAME: id, ...kernelOnlyEnv(userEnv), ...userEnv };
}
