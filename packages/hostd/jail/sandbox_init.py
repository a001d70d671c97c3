"""The sandbox init: pid 1 of a sandbox's own mount, net, uts, ipc and cgroup namespaces, made
inside its family's user and pid namespaces. It sets up the root (rootfs.py), brings up
loopback, then only holds the namespaces (and reaps, should it need to)."""

import fcntl
import os
import signal
import socket
import struct

import counters
import linux
import pid1
import reaper
import rootfs
import seccomp
import setup_child
from family_init import join_family
from readiness import READY_TIMEOUT_S, Reader, send

SIOCGIFFLAGS = 0x8913
SIOCSIFFLAGS = 0x8914
IFF_UP = 0x1
INNER_NS = (linux.CLONE_NEWNS | linux.CLONE_NEWUTS | linux.CLONE_NEWIPC | linux.CLONE_NEWNET
            | linux.CLONE_NEWCGROUP)


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
        pid1.quiet_fds(chan.fileno(), program)
        seccomp.install()
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGCHLD})
        send(chan, "R")
        chan.close()
    except BaseException as e:  # broad on purpose: everything becomes a message to the top
        try:
            send(chan, f"E init: {e}")
        finally:
            os._exit(1)
    reaper.become(program, "podflare-init")
    pid1.reap_forever()


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
        if cfg["familyLimits"]:
            # The family's ceilings, for its size with this member (a fork grows it): before
            # this member's namespaces, and before anything of it runs.
            counters.cap_family(cfg["familyLimits"])
        init = os.fork()
        if init == 0:
            # In the family pid namespace (no pid namespace of its own: see docs/security.md,
            # "Fork families"): the sandbox's other namespaces are made here.
            os.close(release_rfd)
            linux.unshare(INNER_NS)
            init_main(cfg, submounts, chan)
        os.read(release_rfd, 1)
    except BaseException as e:  # broad on purpose: every failure becomes a message to the top
        try:
            send(chan, f"E setup: {e}")
        finally:
            os._exit(1)
    os._exit(0)


def begin_sandbox(cfg: dict, family: tuple, reader: Reader, theirs: socket.socket, kids: list,
                  others: tuple = ()) -> setup_child.Pending:
    """Fork the setup child of a sandbox init inside the family (in cfg's cgroups)."""
    return setup_child.begin(cfg["cgroupProcs"], "podflare-init",
                             lambda release: sandbox_setup(cfg, family, theirs, release),
                             reader, kids, others)


def finish_sandbox(p: setup_child.Pending, kids: list) -> tuple:
    """Wait until the init is ready; returns (pid, start time)."""
    def init_pid() -> int:
        pid = p.reader.init_pid or p.reader.find_init(READY_TIMEOUT_S)
        if not pid:
            raise RuntimeError("sandbox setup did not report the init's pid")
        return pid

    return setup_child.finish(p, kids, "R", init_pid)


def start_sandbox(cfg: dict, family: tuple, reader: Reader, theirs: socket.socket, kids: list) -> tuple:
    """Start the sandbox's init inside the family; returns (pid, start time)."""
    return finish_sandbox(begin_sandbox(cfg, family, reader, theirs, kids), kids)
