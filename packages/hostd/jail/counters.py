"""Per-user kernel counters (docs/security.md, "Per-user kernel counters").

The kernel counts namespaces, inotify and fanotify objects per (user namespace, uid) and
charges each one to every ancestor namespace as well, up to the host's, under the uid that
made the outermost namespace. Two consequences, both found by trying (2026-12-06):
- A family namespace made by host root charged every sandbox's use to host root's own budget:
  a sandbox holding 96,555 UTS namespaces (or 128 inotify instances) left host root, and so
  hostd's next sandbox and the host's own services, with none. A family is therefore made with
  an effective uid of the sandboxes' range (`act_as`), one of its own (family_owners.py): the
  host-level budget it draws on is that uid's, which nothing but that family uses.
- The warm pool's spawned families share their zygote family's budget, so each family's
  namespace gets ceilings of its own (`cap_family`), written by each member's setup
  (sandbox_init.py) from outside the sandbox's reach (its /proc/sys is read-only and mount is
  filtered). hostd raises the host-level budget to the sum of those ceilings
  (src/jail/kernel-counters.ts).
"""

import ctypes
import os

import linux

# /proc/sys/user file of the current user namespace for each ceiling in a family's config.
_FILES = {
    "namespaces": ("max_cgroup_namespaces", "max_ipc_namespaces", "max_mnt_namespaces",
                   "max_net_namespaces", "max_pid_namespaces", "max_time_namespaces",
                   "max_uts_namespaces"),
    "inotifyInstances": ("max_inotify_instances",),
    "inotifyWatches": ("max_inotify_watches",),
    "fanotifyGroups": ("max_fanotify_groups",),
    "fanotifyMarks": ("max_fanotify_marks",),
}
KEYS = tuple(_FILES)


def act_as(uid: int) -> None:
    """Take uid as effective uid and gid (the owner of a user namespace made next) and keep
    our capabilities: the real and saved ids stay 0, so the permitted set survives, and the
    effective set, which the kernel clears on the change, is raised again from it (hosts that
    refuse new user namespaces to processes without CAP_SYS_ADMIN still let us make one)."""
    os.setresgid(-1, uid, -1)
    os.setresuid(-1, uid, -1)
    header = linux.CapHeader(linux.LINUX_CAPABILITY_VERSION_3, 0)
    data = (linux.CapData * 2)()
    linux._check(linux.libc.capget(ctypes.byref(header), data), "capget")
    for d in data:
        d.effective = d.permitted
    linux._check(linux.libc.capset(ctypes.byref(header), data), "capset")


def cap_family(limits: dict) -> None:
    """Write the ceilings of the user namespace we are root of (files a kernel lacks, e.g.
    fanotify's without CONFIG_FANOTIFY, are skipped)."""
    for key, names in _FILES.items():
        value = limits.get(key)
        if value is None:
            continue
        for name in names:
            try:
                fd = os.open(f"/proc/sys/user/{name}", os.O_WRONLY | os.O_CLOEXEC)
            except FileNotFoundError:
                continue
            try:
                os.write(fd, f"{int(value)}\n".encode())
            finally:
                os.close(fd)


def check_limits(value) -> dict:
    """A family's ceilings from a config: absent (no ceilings: the warm pool's zygote family,
    whose namespace all spawned families count under), or positive integers by key."""
    if value is None:
        return None
    if not isinstance(value, dict) or not all(k in KEYS for k in value) or not all(
            isinstance(v, int) and not isinstance(v, bool) and 0 < v < 2**31 for v in value.values()):
        raise ValueError(f"familyLimits must map some of {', '.join(KEYS)} to positive integers")
    return value
