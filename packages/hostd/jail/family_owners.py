"""Who makes each fork family's user namespace (docs/security.md, "Per-user kernel counters").

Queued real-time signals (RLIMIT_SIGPENDING), POSIX message queue bytes (RLIMIT_MSGQUEUE) and
locked shared memory (RLIMIT_MEMLOCK) are counted per (user namespace, uid) and charged up the
namespace tree to each namespace's maker, capped there by the maker's rlimit when it made the
namespace. With one maker uid for every family, one sandbox that queued signals or opened
queues until refused left every other sandbox none (found by an outside tester, 2026-12-06).
So each family made on the host is made by a uid no other live family's maker has: the lowest
free one of the sandbox range (base + 1 .. base + count - 1), found by asking each live family
init who made its namespace. The pick and the namespace's making hold a host-wide lock, so two
launches never pick the same uid. Families the warm pool spawns are nested in its zygote's
family and made by its root (family_init.nested_family_setup says why): they share the zygote
family's caps, which are no longer any other family's.
"""

import fcntl
import os
import resource
import struct

# _IO(0xb7, 0x4): the uid (in the caller's namespace) that made a user namespace.
NS_GET_OWNER_UID = 0xB704
LOCK_PATH = "/run/podflare-family-owners.lock"
FAMILY_NAME = b"podflare-family"
CAP_SYS_RESOURCE = 24
# What the kernel charges up the tree with the maker's rlimit as the cap.
SHARED_LIMITS = (resource.RLIMIT_SIGPENDING, resource.RLIMIT_MSGQUEUE, resource.RLIMIT_MEMLOCK)


def _read(path: str, limit: int) -> bytes:
    # os.open/os.read: a third of the cost of open() for the host's every process, and this
    # scan is on the path of every fresh family (a pool-miss create).
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        return os.read(fd, limit)
    finally:
        os.close(fd)


def live_owners() -> set:
    """Host uids that made a live family's user namespace. Only family inits count: named so
    and in a family cgroup (fam_…), which no sandbox process can put itself in."""
    used = set()
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            if _read(f"/proc/{name}/comm", 64).strip() != FAMILY_NAME:
                continue
            if b"/fam_" not in _read(f"/proc/{name}/cgroup", 65536):
                continue
            fd = os.open(f"/proc/{name}/ns/user", os.O_RDONLY | os.O_CLOEXEC)
            try:
                buf = bytearray(4)
                fcntl.ioctl(fd, NS_GET_OWNER_UID, buf)
                used.add(struct.unpack("=I", buf)[0])
            finally:
                os.close(fd)
        except OSError:
            continue  # gone meanwhile
    return used


class Owners:
    """Held while families are picked and made: `with Owners(base, count) as o: o.pick()`."""

    def __init__(self, uid_base: int, uid_count: int):
        self.base, self.count = uid_base, uid_count
        self.fd = -1
        self.used = set()

    def __enter__(self):
        self.fd = os.open(LOCK_PATH, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        self.used = live_owners()
        return self

    def pick(self) -> int:
        for uid in range(self.base + 1, self.base + self.count):
            if uid not in self.used:
                self.used.add(uid)
                return uid
        last = self.base + self.count - 1
        raise RuntimeError(f"every uid of {self.base + 1}..{last} already made a live family")

    def __exit__(self, *exc):
        os.close(self.fd)
        self.fd = -1
        return False


def can_raise_limits() -> bool:
    """CAP_SYS_RESOURCE in our effective set (some hosts withhold it even from root)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("CapEff:"):
                return bool(int(line.split()[1], 16) >> CAP_SYS_RESOURCE & 1)
    return False


def set_maker_limits(host_of_many: bool = False) -> None:
    """The rlimits the next user namespace made by this process records as its caps: the host's
    per-user limits (soft raised to hard), or for the warm pool's zygote family (host_of_many),
    whose cap every spawned family's charges pass through together, no limit where the host
    lets root raise it."""
    capable = host_of_many and can_raise_limits()
    for res in SHARED_LIMITS:
        _soft, hard = resource.getrlimit(res)
        value = resource.RLIM_INFINITY if capable else hard
        resource.setrlimit(res, (value, value))
