"""Fork families (docs/security.md, "Fork families"): a user namespace and a pid namespace shared
by a sandbox and its fork descendants, whose pid 1 is the family init. Made fresh for a new
sandbox, nested below the warm pool's zygote family for a spawned one, or joined (fork children).
"""

import os
import signal
import socket

import counters
import family_owners
import linux
import pid1
import reaper
import seccomp
import setup_child
from readiness import Reader, send


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
        pid1.close_fds_but(chan.fileno(), program)
        seccomp.install()
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGCHLD})
        send(chan, "F")
        chan.close()
    except BaseException as e:  # broad on purpose: every failure becomes a message to the top
        try:
            send(chan, f"E family: {e}")
        finally:
            os._exit(1)
    reaper.become(program, "podflare-family")
    pid1.reap_forever()


def family_setup(chan: socket.socket, maps_rfd: int, unshared=None, release_rfd: int = -1,
                 owner: int = None, host_of_many: bool = False) -> None:
    """Make the family's user namespace (whoever called `unshared` writes its id maps, then "G"
    on maps_rfd) and pid namespace, and fork the family init into it. Stays (pinning the init's
    pid) until release_rfd (default: maps_rfd) reaches its end. Never returns.
    `owner`: the host uid that makes the namespace, one no other live family's maker has
    (family_owners.py; a nested family's is already the outer family's root). host_of_many: the
    warm pool's zygote family (family_owners.set_maker_limits). Its ceilings are written by
    each member's setup (sandbox_init.py)."""
    release_rfd = maps_rfd if release_rfd < 0 else release_rfd
    try:
        os.setsid()
        if unshared is None:
            family_owners.set_maker_limits(host_of_many=host_of_many)
        if owner is not None:
            counters.act_as(owner)
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
    except BaseException as e:  # broad on purpose: every failure becomes a message to the top
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


def write_maps(pid: int, base: int, count: int) -> None:
    # Written by a privileged parent, the maps may leave setgroups allowed: root inside may
    # then drop or change groups (apt's _apt user needs it).
    with open(f"/proc/{pid}/setgroups", "w") as f:
        f.write("allow")
    for name in ("uid_map", "gid_map"):
        with open(f"/proc/{pid}/{name}", "w") as f:
            f.write(f"0 {base} {count}\n")


def make_family(cfg: dict, reader: Reader, theirs: socket.socket, kids: list) -> tuple:
    """Start a family init; returns (pid, start time). The release pipe also carries the "G"
    that tells the setup child its id maps are written. Its maker's uid is picked, and the
    family made, under the owners' lock: held until the family init runs (and is found)."""
    with family_owners.Owners(cfg["uidBase"], cfg["uidCount"]) as owners:
        owner = owners.pick()
        # No ceilings: the warm pool's zygote, whose namespace every spawned family counts under.
        host_of_many = cfg["familyLimits"] is None
        p = setup_child.begin(cfg["familyCgroupProcs"], "podflare-family",
                              lambda maps: family_setup(theirs, maps, owner=owner, host_of_many=host_of_many),
                              reader, kids, ())
        try:
            if reader.line() != "U":
                raise RuntimeError("unexpected message from family setup")
            write_maps(p.child, cfg["uidBase"], cfg["uidCount"])
            os.write(p.release_wfd, b"G")
        except BaseException:
            os.close(p.release_wfd)
            raise
        return setup_child.finish(p, kids, "F", lambda: reader.family_pid)


def nested_family_setup(outer: tuple, chan: socket.socket, release_rfd: int, count: int) -> None:
    """A family nested below `outer` (the warm pool's zygote family; docs/security.md, "Warm
    pool spawn"): join the outer family's user namespace as its root and point
    pid_for_children at its pid namespace, then fork family_setup, whose user namespace (owner:
    the outer root, as the zygote kernel that will fork into it) and pid namespace are made
    inside those. Its id maps must be written from the parent user namespace: by us. Never
    returns. Its maker is the outer family's root, as before family_owners.py: made by another
    uid of the outer family, a fork parent's kernel could signal processes of its own sandbox it
    could no longer see, and a kernel's dead children stopped being reaped (tests
    fork-isolation and fork-bomb; the cause is not understood yet), so spawned families still
    share the zygote family's caps on queued signals and message queues."""
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
    except BaseException as e:  # broad on purpose: every failure becomes a message to the top
        try:
            send(chan, f"E nested family: {e}")
        finally:
            os._exit(1)
    os._exit(0)


def begin_nested_family(cfg: dict, outer: tuple, reader: Reader, theirs: socket.socket,
                        kids: list, others: tuple = ()) -> setup_child.Pending:
    """Fork the maker of a family nested below `outer` (in cfg's family cgroup)."""
    return setup_child.begin(cfg["familyCgroupProcs"], "podflare-family",
                             lambda release: nested_family_setup(outer, theirs, release, cfg["uidCount"]),
                             reader, kids, others)


def finish_nested_family(p: setup_child.Pending, kids: list) -> tuple:
    """Wait until the nested family's init is ready; returns (pid, start time)."""
    return setup_child.finish(p, kids, "F", lambda: p.reader.family_pid)
