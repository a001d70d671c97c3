"""The setup children of a launch: forked into the new sandbox's (or family's) cgroups, each
pins the pid of the init it forks until the top has read it, so the pid cannot be reused
meanwhile. Also how a launch (or fork) kills what it made when it fails."""

import os
import select
import signal

import linux
import reaper
from readiness import Reader


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


class Pending:
    """A setup child started (begin_*) and not yet waited for (finish_*)."""

    def __init__(self, child: int, reader: Reader, release_wfd: int):
        self.child, self.reader, self.release_wfd = child, reader, release_wfd


def begin(cgroup_procs: list, program: str, setup, reader: Reader, kids: list,
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


def finish(p: Pending, kids: list, ready: str, pid_of) -> tuple:
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
