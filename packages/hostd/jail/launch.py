"""Start a sandbox init holding fresh mount, net, uts, ipc and cgroup namespaces, inside a
fork family: a user namespace and a pid namespace shared by a sandbox and its fork
descendants, whose pid 1 is the family init (docs/security.md, "Fork families").

Run as root by hostd with a JSON config on stdin:
  {id, rootfs, guestDir, uidBase, uidCount, hostname?, cgroupProcs: [...],
   familyCgroupProcs?: [...], family?: {pid, startTime}}
Without `family` a new family is made first (its init goes to familyCgroupProcs, default
cgroupProcs); with it the sandbox joins that running family (fork children).
Prints one JSON line, {"initPid", "initStartTime", "familyPid", "familyStartTime"} or
{"error": "..."}, and exits.

Process tree:
  top (this script, host root)  -- writes the id maps, waits for readiness, exits
    family setup (setsid; unshare USER; maps written by top; unshare PID)
      family init (pid 1 of the family pid namespace, empty tmpfs root): only reaps
    sandbox setup (setsid; own mount ns: bind rootfs + guest dir; setns USER and PID of
                   the family)
      init (in the family pid namespace): unshare mnt/net/uts/ipc/cgroup; /proc, /sys,
           /dev, pivot_root, then only holds the namespaces (and reaps, should it need to)
The setup children exit once the top has their child's pid (until then they pin it), so the
inits are reparented away from hostd's tree: hostd may die and restart while sandboxes run.
Every message from the children carries the sender's host pid (SCM_CREDENTIALS).
"""

import fcntl
import json
import os
import re
import select
import signal
import socket
import struct
import sys
import time

import linux
import reaper
import rootfs
import seccomp

READY_TIMEOUT_S = 15.0
ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
SIOCGIFFLAGS = 0x8913
SIOCSIFFLAGS = 0x8914
IFF_UP = 0x1
INNER_NS = (linux.CLONE_NEWNS | linux.CLONE_NEWUTS | linux.CLONE_NEWIPC | linux.CLONE_NEWNET
            | linux.CLONE_NEWCGROUP)


class ConfigError(Exception):
    pass


def load_config(raw: str) -> dict:
    cfg = json.loads(raw)
    if not isinstance(cfg, dict):
        raise ConfigError("config must be a JSON object")
    sid = cfg.get("id")
    if not isinstance(sid, str) or not ID_RE.match(sid):
        raise ConfigError("id must match [A-Za-z0-9][A-Za-z0-9_.-]{0,62}")
    host = cfg.get("hostname") or sid
    if not isinstance(host, str) or not ID_RE.match(host):
        raise ConfigError("hostname must match [A-Za-z0-9][A-Za-z0-9_.-]{0,62}")
    for key in ("rootfs", "guestDir"):
        v = cfg.get(key)
        if not isinstance(v, str) or not v.startswith("/") or "\0" in v:
            raise ConfigError(f"{key} must be an absolute path")
        cfg[key] = os.path.normpath(v)
    base, count = cfg.get("uidBase"), cfg.get("uidCount", 65536)
    if not isinstance(base, int) or not isinstance(count, int):
        raise ConfigError("uidBase and uidCount must be integers")
    # The range must never contain host root or ordinary host users.
    if base < 65536 or count < 1 or base + count > 2**32 - 1:
        raise ConfigError("uidBase must be >= 65536 and the range must fit in 32 bits")
    procs = cfg.get("cgroupProcs", [])
    if not isinstance(procs, list) or not all(isinstance(p, str) and p.startswith("/")
                                              for p in procs):
        raise ConfigError("cgroupProcs must be a list of absolute paths")
    fam_procs = cfg.get("familyCgroupProcs", procs)
    if not isinstance(fam_procs, list) or not all(isinstance(p, str) and p.startswith("/")
                                                  for p in fam_procs):
        raise ConfigError("familyCgroupProcs must be a list of absolute paths")
    family = cfg.get("family")
    if family is not None:
        if (not isinstance(family, dict) or not isinstance(family.get("pid"), int)
                or not isinstance(family.get("startTime"), int)):
            raise ConfigError("family must be {pid, startTime} of a running family init")
        cfg["family"] = (family["pid"], family["startTime"])
    cfg["hostname"], cfg["uidCount"], cfg["cgroupProcs"] = host, count, procs
    cfg["familyCgroupProcs"] = fam_procs
    return cfg


def send(chan: socket.socket, msg: str) -> None:
    chan.send(msg.replace("\n", " ").encode()[:4000])


def loopback_up() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        req = struct.pack("16sH22x", b"lo", 0)
        flags = struct.unpack("16sH22x", fcntl.ioctl(s.fileno(), SIOCGIFFLAGS, req))[1]
        fcntl.ioctl(s.fileno(), SIOCSIFFLAGS, struct.pack("16sH22x", b"lo", flags | IFF_UP))


def init_main(cfg: dict, submounts: set, chan: socket.socket) -> None:
    """pid 1 of the sandbox. Never returns."""
    try:
        send(chan, "P")  # first: the top learns our host pid from the credentials
        os.setsid()
        # Non-dumpable: sandbox root must not ptrace the one process it does not run itself.
        linux.prctl(linux.PR_SET_DUMPABLE, 0)
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGPIPE):
            signal.signal(sig, signal.SIG_IGN)
        linux.set_cmdline("podflare-init")
        linux.set_name("podflare-init")
        rootfs.enter_root(submounts)
        socket.sethostname(cfg["hostname"])
        loopback_up()
        program = reaper.inherited("podflare-init")
        _quiet_fds(chan.fileno(), program)
        seccomp.install()
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGCHLD})
        send(chan, "R")
        chan.close()
    except BaseException as e:  # noqa: BLE001 - everything becomes a message to the top
        try:
            send(chan, f"E init: {e}")
        finally:
            os._exit(1)
    reaper.become(program, "podflare-init")
    reap_forever()


def family_main(chan: socket.socket) -> None:
    """pid 1 of the family pid namespace: only reaps (guest kernels are its children). It
    sits in an empty tmpfs root of its own, so nothing it could be made to do reaches a
    host path. Never returns."""
    try:
        os.setsid()
        linux.prctl(linux.PR_SET_DUMPABLE, 0)
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGPIPE):
            signal.signal(sig, signal.SIG_IGN)
        linux.set_cmdline("podflare-family")
        linux.set_name("podflare-family")
        null = os.open("/dev/null", os.O_RDWR)
        linux.unshare(linux.CLONE_NEWNS)
        linux.mount(None, "/", None, linux.MS_REC | linux.MS_PRIVATE)
        linux.mount("tmpfs", "/tmp", "tmpfs", linux.MS_NOSUID | linux.MS_NODEV | linux.MS_NOEXEC,
                    "size=4k,mode=0555")
        os.chdir("/tmp")
        linux.pivot_root(".", ".")
        linux.umount2(".", linux.MNT_DETACH)
        os.chdir("/")
        for fd in (0, 1, 2):
            os.dup2(null, fd)
        os.close(null)
        program = reaper.inherited("podflare-family")
        _close_fds_but(chan.fileno(), program)
        seccomp.install()
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGCHLD})
        send(chan, "F")
        chan.close()
    except BaseException as e:  # noqa: BLE001
        try:
            send(chan, f"E family: {e}")
        finally:
            os._exit(1)
    reaper.become(program, "podflare-family")
    reap_forever()


def _quiet_fds(keep: int, program: int | None) -> None:
    null = os.open("/dev/null", os.O_RDWR)
    for fd in (0, 1, 2):
        if fd != null:
            os.dup2(null, fd)
    if null > 2 and null not in (keep, program):
        os.close(null)
    _close_fds_but(keep, program)


def _close_fds_but(*keep) -> None:
    """Close every descriptor from 3 up except those in `keep` (None entries ignored)."""
    start = 3
    for fd in sorted(k for k in keep if k is not None and k >= 3):
        os.closerange(start, fd)
        start = fd + 1
    os.closerange(start, 65536)


def reap_forever() -> None:
    while True:
        try:
            while True:
                pid, _ = os.waitpid(-1, os.WNOHANG)
                if pid == 0:
                    break
        except ChildProcessError:
            pass
        except Exception:  # noqa: BLE001 - pid 1 must not die
            pass
        try:
            signal.sigwaitinfo({signal.SIGCHLD})
        except Exception:  # noqa: BLE001
            time.sleep(1)


def family_setup(chan: socket.socket, maps_rfd: int, unshared=None, release_rfd: int = -1) -> None:
    """Make the family's user namespace (whoever called `unshared` writes its id maps, then "G"
    on maps_rfd) and pid namespace, and fork the family init into it. Stays (pinning the init's
    pid) until release_rfd (default: maps_rfd) reaches its end. Never returns."""
    release_rfd = maps_rfd if release_rfd < 0 else release_rfd
    try:
        os.setsid()
        linux.unshare(linux.CLONE_NEWUSER)
        if unshared is None:
            send(chan, "U")  # to the top, which writes the maps
        else:
            unshared()
        if os.read(maps_rfd, 1) != b"G":
            os._exit(1)
        linux.become_root()
        linux.unshare(linux.CLONE_NEWPID)
        if os.fork() == 0:
            family_main(chan)  # closes every other descriptor
        os.read(release_rfd, 1)
    except BaseException as e:  # noqa: BLE001
        try:
            send(chan, f"E family setup: {e}")
        finally:
            os._exit(1)
    os._exit(0)


def join_family(family: tuple, what: str) -> None:
    """Join a running family's user namespace as its root and point pid_for_children at its pid
    namespace (both opened before the family init's start time is checked)."""
    fpid, fstart = family
    user_fd = os.open(f"/proc/{fpid}/ns/user", os.O_RDONLY | os.O_CLOEXEC)
    pid_fd = os.open(f"/proc/{fpid}/ns/pid", os.O_RDONLY | os.O_CLOEXEC)
    try:
        if linux.start_time(fpid) != fstart:
            raise RuntimeError(f"{what} init {fpid} is gone")
        linux.setns(user_fd, linux.CLONE_NEWUSER, f"setns user ({what})")
        linux.become_root()
        linux.setns(pid_fd, linux.CLONE_NEWPID, f"setns pid ({what})")
    finally:
        os.close(user_fd)
        os.close(pid_fd)


def sandbox_setup(cfg: dict, family: tuple, chan: socket.socket, release_rfd: int) -> None:
    """Bind the rootfs (still host root), join the family's user namespace, and from inside
    the family pid namespace make the sandbox's own namespaces and fork its init. Never
    returns; stays (pinning the init's pid) until the top releases it."""
    try:
        os.setsid()
        # Host root, in a mount namespace of our own: the binds that need host paths.
        linux.unshare(linux.CLONE_NEWNS)
        owner = (cfg["uidBase"], cfg["uidBase"])
        submounts = rootfs.bind_root(cfg["rootfs"], cfg["guestDir"], owner, cfg["hostname"])
        join_family(family, "family")
        init = os.fork()
        if init == 0:
            # In the family pid namespace (no pid namespace of its own: see docs/security.md,
            # "Fork families"): the sandbox's other namespaces are made here.
            os.close(release_rfd)
            linux.unshare(INNER_NS)
            init_main(cfg, submounts, chan)
        os.read(release_rfd, 1)
    except BaseException as e:  # noqa: BLE001
        try:
            send(chan, f"E setup: {e}")
        finally:
            os._exit(1)
    os._exit(0)


def write_maps(pid: int, base: int, count: int) -> None:
    # Written by a privileged parent, the maps may leave setgroups allowed: root inside may
    # then drop or change groups (apt's _apt user needs it).
    with open(f"/proc/{pid}/setgroups", "w") as f:
        f.write("allow")
    for name in ("uid_map", "gid_map"):
        with open(f"/proc/{pid}/{name}", "w") as f:
            f.write(f"0 {base} {count}\n")


class Reader:
    """Messages from the processes the launch makes, each tagged by the kernel with the
    sender's host pid (SCM_CREDENTIALS), with one deadline for the whole launch."""

    def __init__(self, sock: socket.socket, deadline: float):
        self.sock, self.deadline = sock, deadline
        self.init_pid = 0
        self.family_pid = 0

    def line(self) -> str:
        while True:
            left = self.deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("sandbox init did not become ready in time")
            ready, _, _ = select.select([self.sock], [], [], left)
            if ready:
                break
        data, anc, _, _ = self.sock.recvmsg(4096, socket.CMSG_SPACE(struct.calcsize("iII")))
        if not data:
            raise EOFError("sandbox setup exited without reporting")
        pid = 0
        for level, kind, raw in anc:
            if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
                pid = struct.unpack("iII", raw[: struct.calcsize("iII")])[0]
        text = data.decode(errors="replace")
        if text == "P":
            self.init_pid = pid
        elif text == "F":
            self.family_pid = pid
        elif text.startswith("E "):
            raise RuntimeError(text[2:])
        return text

    def find_init(self, timeout_s: float) -> int:
        """After a failure: the init's pid, if one was forked (it reports right after fork)."""
        self.deadline = min(self.deadline, time.monotonic() + timeout_s)
        while not self.init_pid:
            try:
                self.line()
            except (EOFError, TimeoutError, OSError):
                break
            except RuntimeError:
                continue
        return self.init_pid


def kill_and_wait(pidfd: int, timeout_s: float = 5.0) -> None:
    """SIGKILL a process that is not our child and wait until it has left its cgroup."""
    try:
        signal.pidfd_send_signal(pidfd, signal.SIGKILL)
        select.select([pidfd], [], [], timeout_s)
    except ProcessLookupError:
        pass
    finally:
        os.close(pidfd)


def join_cgroups(paths: list) -> None:
    for path in paths:
        with open(path, "w") as f:
            f.write(str(os.getpid()))


def make_family(cfg: dict, reader: Reader, theirs: socket.socket, kids: list) -> tuple:
    """Start a family init; returns (pid, start time). The release pipe also carries the "G"
    that tells the setup child its id maps are written."""
    p = _begin(cfg["familyCgroupProcs"], "podflare-family", lambda maps: family_setup(theirs, maps),
               reader, kids, ())
    try:
        if reader.line() != "U":
            raise RuntimeError("unexpected message from family setup")
        write_maps(p.child, cfg["uidBase"], cfg["uidCount"])
        os.write(p.release_wfd, b"G")
    except BaseException:
        os.close(p.release_wfd)
        raise
    return _finish(p, kids, "F", lambda: reader.family_pid)


def nested_family_setup(outer: tuple, chan: socket.socket, release_rfd: int, count: int) -> None:
    """A family nested below `outer` (the warm pool's zygote family; docs/security.md, "Warm
    pool spawn"): join the outer family's user namespace as its root and point
    pid_for_children at its pid namespace, then fork family_setup, whose user namespace (owner:
    the outer root, as the zygote kernel that will fork into it) and pid namespace are made
    inside those. Its id maps must be written from the parent user namespace: by us. Never
    returns."""
    try:
        os.setsid()
        join_family(outer, "outer family")
        # The uid change left us non-dumpable, and our child with us: its /proc files would
        # then belong to host root, and we could not write its id maps. Only host root and
        # the zygote's family (no user code) can see us and the child meanwhile.
        linux.prctl(linux.PR_SET_DUMPABLE, 1)
        unshared_r, unshared_w = os.pipe()
        maps_r, maps_w = os.pipe()
        child = os.fork()
        if child == 0:
            os.close(unshared_r)
            os.close(maps_w)
            family_setup(chan, maps_r, lambda: os.write(unshared_w, b"U"), release_rfd)
        os.close(unshared_w)
        os.close(maps_r)
        os.close(release_rfd)
        if os.read(unshared_r, 1) != b"U":
            raise RuntimeError("the nested family's setup died before its user namespace existed")
        write_maps(child, 0, count)  # ids of the outer family, which maps them to the host's
        os.write(maps_w, b"G")
        os.close(maps_w)
        os.waitpid(child, 0)
    except BaseException as e:  # noqa: BLE001
        try:
            send(chan, f"E nested family: {e}")
        finally:
            os._exit(1)
    os._exit(0)


class Pending:
    """A setup child started (begin_*) and not yet waited for (finish_*)."""

    def __init__(self, child: int, reader: "Reader", release_wfd: int):
        self.child, self.reader, self.release_wfd = child, reader, release_wfd


def _begin(cgroup_procs: list, program: str, setup, reader: Reader, kids: list,
           others: tuple) -> Pending:
    """Fork a setup child in these cgroups; it runs setup(release_rfd) and stays until released.
    `others`: setups started beside it, whose descriptors the child must not keep (a kept
    release pipe would hold that setup child forever)."""
    join_cgroups(cgroup_procs)
    reaper.program_fd(program)  # made as host root: the init it becomes cannot read it
    release_rfd, release_wfd = os.pipe()
    child = os.fork()
    if child == 0:
        os.close(release_wfd)
        for other in others:
            os.close(other.release_wfd)
            other.reader.sock.close()
        setup(release_rfd)
    kids.append(child)
    os.close(release_rfd)
    return Pending(child, reader, release_wfd)


def _finish(p: Pending, kids: list, ready: str, pid_of) -> tuple:
    """Wait for the `ready` message; then, while the setup child still pins the pid (a dead
    child of it stays a zombie, so the pid cannot be reused), read the pid (pid_of()) and its
    start time; then release the setup child, also on
    failure. Returns (pid, start time)."""
    try:
        while p.reader.line() != ready:
            pass
        pid = pid_of()
        start = linux.start_time(pid)
    finally:
        os.close(p.release_wfd)
    os.waitpid(p.child, 0)
    kids.remove(p.child)
    return pid, start


def begin_nested_family(cfg: dict, outer: tuple, reader: Reader, theirs: socket.socket,
                        kids: list, others: tuple = ()) -> Pending:
    """Fork the maker of a family nested below `outer` (in cfg's family cgroup)."""
    return _begin(cfg["familyCgroupProcs"], "podflare-family",
                  lambda release: nested_family_setup(outer, theirs, release, cfg["uidCount"]),
                  reader, kids, others)


def finish_nested_family(p: Pending, kids: list) -> tuple:
    """Wait until the nested family's init is ready; returns (pid, start time)."""
    return _finish(p, kids, "F", lambda: p.reader.family_pid)


def begin_sandbox(cfg: dict, family: tuple, reader: Reader, theirs: socket.socket, kids: list,
                  others: tuple = ()) -> Pending:
    """Fork the setup child of a sandbox init inside the family (in cfg's cgroups)."""
    return _begin(cfg["cgroupProcs"], "podflare-init",
                  lambda release: sandbox_setup(cfg, family, theirs, release),
                  reader, kids, others)


def finish_sandbox(p: Pending, kids: list) -> tuple:
    """Wait until the init is ready; returns (pid, start time)."""
    def init_pid() -> int:
        pid = p.reader.init_pid or p.reader.find_init(READY_TIMEOUT_S)
        if not pid:
            raise RuntimeError("sandbox setup did not report the init's pid")
        return pid

    return _finish(p, kids, "R", init_pid)


def start_sandbox(cfg: dict, family: tuple, reader: Reader, theirs: socket.socket, kids: list) -> tuple:
    """Start the sandbox's init inside the family; returns (pid, start time)."""
    return finish_sandbox(begin_sandbox(cfg, family, reader, theirs, kids), kids)


def launch(cfg: dict) -> dict:
    """Both steps; on failure kills what it made and raises."""
    kids = []
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    ours.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
    reader = Reader(ours, time.monotonic() + READY_TIMEOUT_S)
    family = cfg.get("family")
    made_family = family is None
    try:
        if made_family:
            family = make_family(cfg, reader, theirs, kids)
        init_pid, start = start_sandbox(cfg, tuple(family), reader, theirs, kids)
        return {"initPid": init_pid, "initStartTime": start,
                "familyPid": family[0], "familyStartTime": family[1]}
    except BaseException:
        # Leave nothing behind: the init (whose pid may still be in flight), the family init
        # when we made it (killing it ends its whole pid namespace), the setup children.
        pidfds = []
        for pid in (reader.find_init(2.0), reader.family_pid if made_family else 0):
            if pid:
                try:
                    pidfds.append(os.pidfd_open(pid))  # pinned: a setup child's child
                except ProcessLookupError:
                    pass
        for child in kids:
            try:
                os.kill(child, signal.SIGKILL)
                os.waitpid(child, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
        for pidfd in pidfds:
            kill_and_wait(pidfd)
        raise


def main() -> int:
    try:
        linux.set_oom_score_adj(linux.SANDBOX_OOM_SCORE_ADJ)  # before forking any of the sandbox
        cfg = load_config(sys.stdin.read())
        out = launch(cfg)
        sys.stdout.write(json.dumps(out) + "\n")
        sys.stdout.flush()
        return 0
    except BaseException as e:  # noqa: BLE001
        msg = str(e) or type(e).__name__
        sys.stdout.write(json.dumps({"error": f"launch: {msg}"}) + "\n")
        sys.stdout.flush()
        return 1


if __name__ == "__main__":
    sys.exit(main())
