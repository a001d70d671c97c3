"""Build the sandbox's filesystem view and pivot into it.

Two phases, because the host state directory need not be reachable by the sandbox's uids:
  bind_root   -- the setup child, still host root, in a private mount namespace of its own:
                 bind the rootfs onto itself (nodev), bind the guest dir read-only, bind a
                 small hosts file naming the sandbox over /etc/hosts, chdir into the rootfs.
                 Mounts made here are locked in the sandbox's namespace.
  enter_root  -- the sandbox init (pid 1, inside the user namespace), starting from that cwd:
                 fresh /proc, /sys, /dev, then pivot_root and detach the old root.

The rootfs may come from a sandbox its user modified (a fork, a Space), so nothing inside it
is trusted: every mount target is opened component by component with O_NOFOLLOW, created if
missing, and the mount is made on /proc/self/fd/N so the kernel mounts on exactly the
directory we checked. A planted symlink makes the launch fail instead of redirecting a mount.
"""

import errno
import os
import stat

from linux import (MNT_DETACH, MS_BIND, MS_NODEV, MS_NOEXEC, MS_NOSUID, MS_PRIVATE, MS_RDONLY,
                   MS_REC, MS_REMOUNT, MS_SLAVE, fd_path, mount, mount_flags_of, move_mount_fd,
                   open_tree_clone, pivot_root, umount2)

O_DIR_PATH = os.O_PATH | os.O_NOFOLLOW | os.O_DIRECTORY | os.O_CLOEXEC
O_FILE_PATH = os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC

DEV_NODES = ("null", "zero", "full", "random", "urandom", "tty")
DEV_LINKS = (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"),
             ("stdout", "/proc/self/fd/1"), ("stderr", "/proc/self/fd/2"),
             ("ptmx", "pts/ptmx"))
GUEST_MOUNT = "/.podflare/guest"
HOSTS_MOUNT = "/etc/hosts"
# A private tmpfs of the setup's own mount namespace holds the hosts file; the bind keeps it
# alive after the namespace is gone. Nothing is written into the (snapshot) rootfs.
HOSTS_STAGING = "/dev/shm"

# Like runc's maskedPaths / readonlyPaths. Files are covered with /dev/null, directories
# with an empty read-only tmpfs; missing ones are skipped (they vary by kernel config).
# /proc/cmdline: the host's boot line is none of a sandbox's business (issue 20, Low).
# /sys/fs/btrfs: every pool's qgroups, so every sandbox's disk use and cap, live (an outside
# tester watched another tenant's writes there); /sys/devices/virtual/block: the pools' loop
# devices, their I/O counters and backing files' host paths (/sys/block links into it).
MASKED = ("/proc/kcore", "/proc/keys", "/proc/timer_list", "/proc/sched_debug",
          "/proc/latency_stats", "/proc/acpi", "/proc/scsi", "/sys/firmware",
          "/sys/devices/virtual/powercap", "/proc/cmdline", "/sys/fs/btrfs",
          "/sys/devices/virtual/block")
READ_ONLY = ("/proc/sys", "/proc/irq", "/proc/bus", "/proc/fs", "/proc/sysrq-trigger")
# Terminals a sandbox may hold at once (devpts max=; PTYS_PER_SANDBOX in kernel-counters.ts).
PTYS_PER_SANDBOX = 256


class JailError(Exception):
    pass


def open_dir_beneath(root_fd: int, rel: str, create: bool = True, owner=None) -> int:
    """An O_PATH fd on root/rel, refusing symlinks and non-directories on the way.
    Missing directories are created (and given to owner=(uid, gid) when set)."""
    cur = os.dup(root_fd)
    walked = ""
    try:
        for part in [p for p in rel.split("/") if p]:
            if part in (".", ".."):
                raise JailError(f"bad path component in {rel!r}")
            walked += "/" + part
            try:
                nxt = os.open(part, O_DIR_PATH, dir_fd=cur)
            except FileNotFoundError:
                if not create:
                    raise
                os.mkdir(part, 0o755, dir_fd=cur)
                nxt = os.open(part, O_DIR_PATH, dir_fd=cur)
                if owner is not None:
                    os.chown(fd_path(nxt), *owner)
            except OSError as e:
                if e.errno not in (errno.ENOTDIR, errno.ELOOP):
                    raise
                raise JailError(f"refusing to mount over rootfs path {walked}: "
                                f"it is a symlink or not a directory") from None
            os.close(cur)
            cur = nxt
            if not stat.S_ISDIR(os.fstat(cur).st_mode):
                raise JailError(f"rootfs path {walked} is not a directory")
        return cur
    except BaseException:
        os.close(cur)
        raise


def _mount_at(root_fd: int, rel: str, source, fstype, flags: int, data=None) -> None:
    fd = open_dir_beneath(root_fd, rel)
    try:
        mount(source, fd_path(fd), fstype, flags, data)
    finally:
        os.close(fd)


def _remount_ro(path: str, extra: int = 0) -> None:
    flags = mount_flags_of(path) | MS_RDONLY | extra
    mount(None, path, None, MS_REMOUNT | MS_BIND | flags)


def _setup_dev(root_fd: int) -> None:
    _mount_at(root_fd, "dev", "tmpfs", "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=755,size=65536k")
    # Reopen: the fresh tmpfs now covers the directory we checked; nothing else writes it.
    dev = os.open("dev", O_DIR_PATH, dir_fd=root_fd)
    try:
        for name in DEV_NODES:
            os.close(os.open(name, os.O_CREAT | os.O_EXCL | os.O_WRONLY | os.O_NOFOLLOW
                             | os.O_CLOEXEC, 0o666, dir_fd=dev))
            node = os.open(name, os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=dev)
            try:
                mount(f"/dev/{name}", fd_path(node), None, MS_BIND)
            finally:
                os.close(node)
        for name, mode in (("pts", 0o755), ("shm", 0o1777)):
            os.mkdir(name, mode, dir_fd=dev)
        pts = os.open("pts", O_DIR_PATH, dir_fd=dev)
        try:
            # max=: every devpts instance draws on the host's one kernel.pty.max (hostd
            # raises it to cover all sandboxes: src/jail/kernel-counters.ts).
            mount("devpts", fd_path(pts), "devpts", MS_NOSUID | MS_NOEXEC,
                  f"newinstance,ptmxmode=0666,mode=0620,gid=5,max={PTYS_PER_SANDBOX}")
        finally:
            os.close(pts)
        shm = os.open("shm", O_DIR_PATH, dir_fd=dev)
        try:
            mount("shm", fd_path(shm), "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                  "mode=1777,size=65536k")
        finally:
            os.close(shm)
        for name, target in DEV_LINKS:
            os.symlink(target, name, dir_fd=dev)
    finally:
        os.close(dev)


def _setup_sys(root_fd: int) -> None:
    flags = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC
    try:
        _mount_at(root_fd, "sys", "sysfs", "sysfs", flags)
    except OSError:
        # Never fall back to the host's /sys: an empty read-only tmpfs keeps tools working.
        _mount_at(root_fd, "sys", "tmpfs", "tmpfs", flags, "size=4k,mode=755")


def _setup_guest(root_fd: int, guest_dir: str, owner) -> None:
    st = os.lstat(guest_dir)
    if not stat.S_ISDIR(st.st_mode):
        raise JailError(f"guestDir {guest_dir} is not a directory")
    fd = open_dir_beneath(root_fd, GUEST_MOUNT, owner=owner)
    try:
        mount(guest_dir, fd_path(fd), None, MS_BIND)
    finally:
        os.close(fd)
    # The fd named the directory under the new mount: reopen to reach the mount itself.
    fd = open_dir_beneath(root_fd, GUEST_MOUNT, create=False)
    try:
        _remount_ro(fd_path(fd), MS_NOSUID | MS_NODEV)
    finally:
        os.close(fd)


def hosts_text(hostname: str) -> bytes:
    # 127.0.1.1 as Debian does: it answers with egress off too, and never waits for DNS.
    return (f"127.0.0.1\tlocalhost\n127.0.1.1\t{hostname}\n"
            "::1\tlocalhost ip6-localhost ip6-loopback\n"
            "ff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n").encode()


def _setup_hosts(root_fd: int, hostname: str, owner) -> bool:
    """Binds a read-only hosts file naming the sandbox over rootfs/etc/hosts. Skipped (False)
    when etc or etc/hosts is not what it should be (a symlink planted by a fork's parent):
    the sandbox then only lacks its name, and no mount is redirected."""
    try:
        etc = open_dir_beneath(root_fd, "etc", create=False)
    except (FileNotFoundError, JailError):
        return False
    try:
        try:
            target = os.open("hosts", O_FILE_PATH, dir_fd=etc)
        except FileNotFoundError:
            fd = os.open("hosts", os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
                         | os.O_CLOEXEC, 0o644, dir_fd=etc)
            os.fchown(fd, *owner)
            os.close(fd)
            target = os.open("hosts", O_FILE_PATH, dir_fd=etc)
        try:
            if not stat.S_ISREG(os.fstat(target).st_mode):
                return False
            _bind_hosts_file(hostname, owner, fd_path(target))
        finally:
            os.close(target)
        # Reopen to reach the mount itself; read-only, so the sandbox cannot fill host memory.
        fd = os.open("hosts", O_FILE_PATH, dir_fd=etc)
        try:
            _remount_ro(fd_path(fd), MS_NOSUID | MS_NODEV | MS_NOEXEC)
        finally:
            os.close(fd)
        return True
    finally:
        os.close(etc)


def _bind_hosts_file(hostname: str, owner, target: str) -> None:
    mount("tmpfs", HOSTS_STAGING, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=16k,mode=700")
    try:
        src = os.path.join(HOSTS_STAGING, "hosts")
        fd = os.open(src, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
        try:
            os.write(fd, hosts_text(hostname))
            os.fchown(fd, *owner)
        finally:
            os.close(fd)
        mount(src, target, None, MS_BIND)
    finally:
        umount2(HOSTS_STAGING, MNT_DETACH)


def _existing_submounts(rootfs: str) -> set:
    """Mount points already below rootfs (they come along with the recursive bind)."""
    prefix = rootfs.rstrip("/") + "/"
    out = set()
    for mp in _mount_points():
        if mp.startswith(prefix):
            out.add("/" + mp[len(prefix):])
    return out


def _mount_points() -> list:
    with open("/proc/self/mountinfo", "rb") as f:
        lines = f.read().decode("utf-8", "surrogateescape").splitlines()
    out = []
    for line in lines:
        mp = line.split(" ")[4]
        out.append(mp.replace("\\040", " ").replace("\\011", "\t")
                   .replace("\\012", "\n").replace("\\134", "\\"))
    return out


def _mask(paths_ro: tuple, paths_masked: tuple) -> set:
    done = set()
    for path in paths_masked:
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            continue
        if stat.S_ISDIR(st.st_mode):
            mount("tmpfs", path, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                  "size=0,mode=555")
        else:
            mount("/dev/null", path, None, MS_BIND)
        done.add(path)
    for path in paths_ro:
        if not os.path.lexists(path):
            continue
        mount(path, path, None, MS_BIND | MS_REC)
        _remount_ro(path, MS_NOSUID | MS_NODEV | MS_NOEXEC)
        done.add(path)
    return done


def _verify(expected: set) -> None:
    mps = _mount_points()
    if mps.count("/") != 1:
        raise JailError("old root still visible after pivot_root")
    extra = [mp for mp in mps if mp not in expected]
    if extra:
        raise JailError(f"unexpected mounts after pivot_root: {extra}")


def bind_root(rootfs: str, guest_dir: str, owner, hostname: str) -> set:
    """Phase 1, as host root in a fresh mount namespace: returns the rootfs's own submounts
    and leaves the cwd at the root of the rootfs bind mount."""
    mount(None, "/", None, MS_REC | MS_PRIVATE)
    st = os.lstat(rootfs)
    if not stat.S_ISDIR(st.st_mode):
        raise JailError(f"rootfs {rootfs} is not a directory")
    submounts = _existing_submounts(rootfs)
    mount(rootfs, rootfs, None, MS_BIND | MS_REC)
    # No device nodes from the rootfs: a template could ship one, the sandbox cannot make one.
    mount(None, rootfs, None, MS_REMOUNT | MS_BIND | mount_flags_of(rootfs) | MS_NODEV)
    root_fd = os.open(rootfs, O_DIR_PATH)
    try:
        _setup_guest(root_fd, guest_dir, owner)
        if _setup_hosts(root_fd, hostname, owner):
            submounts.add(HOSTS_MOUNT)
        os.fchdir(root_fd)
    finally:
        os.close(root_fd)
    return submounts


def enter_root(submounts: set) -> None:
    """Phase 2, as the sandbox init inside the user and mount namespaces, with
    the cwd left by bind_root: mount /proc, /sys, /dev and pivot_root into the rootfs."""
    mount(None, "/", None, MS_REC | MS_PRIVATE)
    # The bind from phase 1 is locked here (it came from a more privileged namespace) and
    # pivot_root refuses a locked new root: stack an unlocked recursive clone on top of it.
    # The guest mount inside the clone stays locked, so it can never be unmounted or made rw.
    root_fd = open_tree_clone(".")
    try:
        move_mount_fd(root_fd, ".")
        # The pid namespace is the fork family's: a process shows in /proc only to those
        # that may ptrace it, which Landlock limits to its own sandbox (docs/security.md).
        _mount_at(root_fd, "proc", "proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                  "hidepid=invisible")
        _setup_sys(root_fd)
        _setup_dev(root_fd)
        os.fchdir(root_fd)
    finally:
        os.close(root_fd)
    # The runc way: stack the old root on the new one, then detach it.
    pivot_root(".", ".")
    mount(None, ".", None, MS_SLAVE | MS_REC)
    umount2(".", MNT_DETACH)
    os.chdir("/")

    masked = _mask(READ_ONLY, MASKED)
    expected = {"/", "/proc", "/sys", "/dev", "/dev/pts", "/dev/shm", GUEST_MOUNT}
    expected |= {f"/dev/{n}" for n in DEV_NODES}
    expected |= masked | submounts
    _verify(expected)
