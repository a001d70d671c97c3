"""Start a sandbox init: pid 1 of fresh user, pid, mount, net, uts, ipc and cgroup namespaces.

Run as root by hostd with a JSON config on stdin:
  {id, rootfs, guestDir, uidBase, uidCount, hostname?, cgroupProcs: [...]}
Prints one JSON line, {"initPid": N, "initStartTime": T} or {"error": "..."}, and exits.

Process tree:
  top (this script, host root)  -- writes the id maps, waits for readiness, exits
    setup child (setsid; own mount ns: bind rootfs + guest dir; unshare USER; maps written
                 by top; unshare the rest)
      init (pid 1 of the new pid namespace): /proc, /sys, /dev, pivot_root, then only reaps
The setup child exits once the top has the init's pid (until then it pins that pid), so
init is reparented away from hostd's tree: hostd may die and restart while the sandbox runs.
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
import rootfs
import seccomp

READY_TIMEOUT_S = 15.0
ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
SIOCGIFFLAGS = 0x8913
SIOCSIFFLAGS = 0x8914
IFF_UP = 0x1
INNER_NS = (linux.CLONE_NEWNS | linux.CLONE_NEWUTS | linux.CLONE_NEWIPC | linux.CLONE_NEWNET
            | linux.CLONE_NEWCGROUP | linux.CLONE_NEWPID)


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
    cfg["hostname"], cfg["uidCount"], cfg["cgroupProcs"] = host, count, procs
    return cfg


def send(fd: int, msg: str) -> None:
    os.write(fd, (msg.replace("\n", " ") + "\n").encode())


def loopback_up() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        req = struct.pack("16sH22x", b"lo", 0)
        flags = struct.unpack("16sH22x", fcntl.ioctl(s.fileno(), SIOCGIFFLAGS, req))[1]
        fcntl.ioctl(s.fileno(), SIOCSIFFLAGS, struct.pack("16sH22x", b"lo", flags | IFF_UP))


def init_main(cfg: dict, submounts: set, wfd: int) -> None:
    """pid 1 of the sandbox. Never returns."""
    try:
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
        null = os.open("/dev/null", os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)
        os.close(null)
        os.closerange(3, wfd)
        os.closerange(wfd + 1, 65536)
        seccomp.install()
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGCHLD})
        send(wfd, "R")
        os.close(wfd)
    except BaseException as e:  # noqa: BLE001 - everything becomes a message to the top
        try:
            send(wfd, f"E init: {e}")
        finally:
            os._exit(1)
    reap_forever()


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


def setup_child(cfg: dict, wfd: int, maps_rfd: int) -> None:
    """Bind the rootfs (still host root), enter the new user namespace, wait for the top to
    map ids, unshare the rest and fork init. Never returns."""
    try:
        os.setsid()
        # Host root, in a mount namespace of our own: the binds that need host paths.
        linux.unshare(linux.CLONE_NEWNS)
        owner = (cfg["uidBase"], cfg["uidBase"])
        submounts = rootfs.bind_root(cfg["rootfs"], cfg["guestDir"], owner)
        linux.unshare(linux.CLONE_NEWUSER)
        send(wfd, "U")
        if os.read(maps_rfd, 1) != b"G":
            os._exit(1)
        # Drop host root's supplementary groups; become root of the new namespace.
        os.setgroups([])
        os.setresgid(0, 0, 0)
        os.setresuid(0, 0, 0)
        linux.unshare(INNER_NS)
        pid = os.fork()
        if pid == 0:
            os.close(maps_rfd)
            init_main(cfg, submounts, wfd)
        send(wfd, f"P {pid}")
        # Stay until the top is done with the init's pid: as our unreaped child it cannot be
        # recycled, so the top never signals a stranger.
        os.read(maps_rfd, 1)
    except BaseException as e:  # noqa: BLE001
        try:
            send(wfd, f"E setup: {e}")
        finally:
            os._exit(1)
    os._exit(0)


def protect_from_oom(pid: int) -> None:
    """The sandbox's own processes are the OOM victims, never the reaper holding it up.
    Lowering the score needs CAP_SYS_RESOURCE; without it init, a small process, is still
    an unlikely victim, so this is best effort."""
    try:
        with open(f"/proc/{pid}/oom_score_adj", "w") as f:
            f.write("-1000")
    except PermissionError:
        pass


def write_maps(pid: int, base: int, count: int) -> None:
    # Written by a privileged parent, the maps may leave setgroups allowed: root inside may
    # then drop or change groups (apt's _apt user needs it).
    with open(f"/proc/{pid}/setgroups", "w") as f:
        f.write("allow")
    for name in ("uid_map", "gid_map"):
        with open(f"/proc/{pid}/{name}", "w") as f:
            f.write(f"0 {base} {count}\n")


class Reader:
    """Messages from the children, with one deadline for the whole launch. "P <pid>" (the
    init's host pid, from the setup child) may arrive before or after init's own "R"/"E"."""

    def __init__(self, fd: int, deadline: float):
        self.fd, self.deadline, self.buf = fd, deadline, b""
        self.init_pid = 0

    def line(self) -> str:
        while b"\n" not in self.buf:
            left = self.deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("sandbox init did not become ready in time")
            ready, _, _ = select.select([self.fd], [], [], left)
            if not ready:
                continue
            chunk = os.read(self.fd, 4096)
            if not chunk:
                raise EOFError("sandbox setup exited without reporting")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        text = line.decode(errors="replace")
        if text.startswith("P "):
            self.init_pid = int(text[2:])
        elif text.startswith("E "):
            raise RuntimeError(text[2:])
        return text

    def find_init(self, timeout_s: float) -> int:
        """After a failure: the init's pid, if one was forked (it reports right after fork)."""
        self.deadline = min(self.deadline, time.monotonic() + timeout_s)
        while not self.init_pid:
            try:
                self.line()
            except (EOFError, TimeoutError):
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


def main() -> int:
    child = 0
    reader = None
    try:
        cfg = load_config(sys.stdin.read())
        for path in cfg["cgroupProcs"]:
            with open(path, "w") as f:
                f.write(str(os.getpid()))
        rfd, wfd = os.pipe()
        maps_rfd, maps_wfd = os.pipe()
        child = os.fork()
        if child == 0:
            os.close(rfd)
            os.close(maps_wfd)
            setup_child(cfg, wfd, maps_rfd)
        os.close(wfd)
        os.close(maps_rfd)
        reader = Reader(rfd, time.monotonic() + READY_TIMEOUT_S)
        if reader.line() != "U":
            raise RuntimeError("unexpected message from sandbox setup")
        write_maps(child, cfg["uidBase"], cfg["uidCount"])
        os.write(maps_wfd, b"G")
        while reader.line() != "R":
            pass
        init_pid = reader.init_pid or reader.find_init(READY_TIMEOUT_S)
        if not init_pid:
            raise RuntimeError("sandbox setup did not report the init's pid")
        start = linux.start_time(init_pid)
        protect_from_oom(init_pid)
        os.close(maps_wfd)  # releases the setup child
        os.waitpid(child, 0)
        child = 0
        sys.stdout.write(json.dumps({"initPid": init_pid, "initStartTime": start}) + "\n")
        sys.stdout.flush()
        return 0
    except BaseException as e:  # noqa: BLE001
        # Leave nothing behind: the init (whose pid may still be in flight) and the setup child.
        init_pid = reader.find_init(2.0) if reader else 0
        pidfd = -1
        if init_pid:
            try:
                pidfd = os.pidfd_open(init_pid)  # pinned: still the setup child's child
            except ProcessLookupError:
                pass
        if child:
            try:
                os.kill(child, signal.SIGKILL)
                os.waitpid(child, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
        if pidfd >= 0:
            kill_and_wait(pidfd)
        msg = str(e) or type(e).__name__
        sys.stdout.write(json.dumps({"error": f"launch: {msg}"}) + "\n")
        sys.stdout.flush()
        return 1


if __name__ == "__main__":
    sys.exit(main())
