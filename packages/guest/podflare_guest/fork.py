# The guest's half of fork(n), run on the kernel's forker thread while the main thread waits
# between execs. Each child moves into namespaces hostd prepared for it (descriptors received
# with the `fork` frame), reopens the REPL's files in its own root, reseeds randomness,
# enters a Landlock domain of its own (see landlock.py) and serves on its own socket.
#
# All kernels of a family live in the family pid namespace, so a fork child needs no pid
# namespace of its own: the kernel's threads keep working (a thread cannot be created while
# pid_for_children differs from the active pid namespace).
#
# Descriptors in the frame, per child: mnt, net, uts, ipc, cgroup namespaces and a listening
# socket.
#
# A *fresh* fork (the warm pool's spawn, docs/security.md, "Warm pool spawn") is asked of a
# pristine kernel that never ran user code. Each child goes into a family of its own: the frame
# also carries, first, the user and pid namespaces of that family, made by hostd below ours.
# The forker thread points its pid_for_children at the new family before each fork()
# (allowed: the namespace is a descendant of ours, owned by a user namespace whose parent is
# ours and whose owner is our uid), and back after; the child, single-threaded, joins the
# family's user namespace before anything else. Children of a fresh fork share nothing with
# each other but the pages they were born with.

import ctypes
import fcntl
import os
import socket
import sys
import warnings

from . import capabilities, environ_block, errors, landlock, mainthread, reaper
from .capture import flush_std_streams
from .errors import GuestError
from .files import uploads_in_flight
from .log import log, log_exception

CLONE_NEWNS = 0x00020000
CLONE_NEWCGROUP = 0x02000000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWNET = 0x40000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CHILD_NS = (CLONE_NEWNS, CLONE_NEWNET, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWCGROUP)
FDS_PER_CHILD = len(CHILD_NS) + 1
FRESH_FDS_PER_CHILD = FDS_PER_CHILD + 2  # the new family's user and pid namespaces first
DEPTH_MESSAGE = ("fork depth limit reached: Landlock stacks at most %d domains and each fork "
                 "generation adds one; fork from an ancestor with fewer generations behind it, "
                 "or create a new sandbox")

_libc = None


def _setns(fd, nstype):
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
    if _libc.setns(ctypes.c_int(fd), ctypes.c_int(nstype)) < 0:
        e = ctypes.get_errno()
        raise OSError(e, f"setns({nstype:#x}): {os.strerror(e)}")


def fork_children(kernel, ids, fds, files, fresh=False):
    """Fork len(ids) children; returns (their pids in the pid namespace they were born in as
    seen from ours, scoped). Fresh: each child in the new family its descriptors name."""
    n = len(ids)
    if fresh:
        kernel.zygote = True
    per_child = FRESH_FDS_PER_CHILD if fresh else FDS_PER_CHILD
    if len(fds) != per_child * n:
        raise GuestError(errors.IO_ERROR, f"fork: expected {per_child * n} descriptors, got {len(fds)}")
    scoped = landlock.available()
    if scoped and not landlock.can_fork():
        raise GuestError(errors.BUSY, DEPTH_MESSAGE % landlock.MAX_LAYERS)
    flush_std_streams()
    own_pid_ns = os.open("/proc/thread-self/ns/pid", os.O_RDONLY | os.O_CLOEXEC) if fresh else -1
    # All children first, then their reports: the children set themselves up in parallel.
    started = []
    try:
        for i, child_id in enumerate(ids):
            mine = fds[per_child * i: per_child * (i + 1)]
            family = None
            if fresh:
                family, mine = mine[:2], mine[2:]
            started.append(_fork_one(kernel, child_id, mine, fds, files, [s[2] for s in started],
                                     family, own_pid_ns))
        return [_await_ready(*s) for s in started], scoped
    except BaseException:
        for pid, _, _ in started:
            try:
                os.kill(pid, 9)
            except OSError:
                pass
        raise
    finally:
        if own_pid_ns >= 0:
            os.close(own_pid_ns)


def _fork_one(kernel, child_id, mine, all_fds, files, earlier_pipes, family=None, own_pid_ns=-1):
    """Fork one child (a child of ours until we die, then its family init's; the forker
    thread reaps it). Returns (pid, child id, report pipe)."""
    r, w = os.pipe()
    pid = -1
    if family is not None:
        # No thread may be made while this differs from our own: only this thread forks.
        _setns(family[1], CLONE_NEWPID)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # multi-threaded fork: handled below
            pid = os.fork()
    finally:
        if family is not None and pid != 0:
            _setns(own_pid_ns, CLONE_NEWPID)
    if pid == 0:
        try:
            for fd in [r, *earlier_pipes]:
                os.close(fd)
            if family is not None:
                os.close(own_pid_ns)
                _join_family(family)
            _child_main(kernel, child_id, mine, all_fds, files, w)  # never returns
        finally:
            os._exit(70)
    os.close(w)
    kernel.forked.add(pid)
    return pid, child_id, r


def _join_family(family):
    """In a fresh child: into the new family's user namespace (we are single-threaded now,
    as setns requires), and a session of our own (the parent's is not in our pid namespace)."""
    user_fd, pid_fd = family
    _setns(user_fd, CLONE_NEWUSER)
    os.close(user_fd)
    os.close(pid_fd)
    os.setsid()


def _await_ready(pid, child_id, r):
    data = b""
    try:
        while True:
            chunk = os.read(r, 4096)
            if not chunk:
                break
            data += chunk
    finally:
        os.close(r)
    text = data.decode(errors="replace").strip()
    if not text.startswith("R "):
        raise GuestError(errors.IO_ERROR, f"fork child {child_id} failed: {text[2:] or 'no answer'}")
    return pid


def reap(kernel):
    """Collect the fork children that have exited (closed sandboxes). A zygote also waits for
    every other dead child: a pooled sandbox's code can make processes ours (clone with
    CLONE_PARENT), and their zombies would hold pids against every sandbox's shared limit."""
    for pid in list(kernel.forked):
        try:
            done, status = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            done, status = pid, 0  # reaped by user code (os.wait) already
        if done and os.WIFSTOPPED(status):
            # The child made us its tracer (PTRACE_TRACEME): a stop, not an exit. Let it go on.
            _detach(pid, os.WSTOPSIG(status))
            continue
        if done:
            kernel.forked.discard(pid)
    if kernel.zygote:
        reaper.reap()


PTRACE_DETACH = 17


def _detach(pid, sig):
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
    if _libc.ptrace(ctypes.c_long(PTRACE_DETACH), ctypes.c_long(pid), None, ctypes.c_long(sig)) < 0:
        log(f"detach {pid}: {os.strerror(ctypes.get_errno())}")


def _report(w, msg):
    try:
        os.write(w, (msg.replace("\n", " ") + "\n").encode("utf-8", "backslashreplace"))
    except OSError:
        pass


def _child_main(kernel, child_id, mine, all_fds, files, w):
    """In the child (only the forker thread was copied; it is now the main thread)."""
    try:
        if not mainthread.adopt() and sys.version_info >= (3, 13):
            log("fork: could not make this thread the main one for signals (mainthread.py)")
        listener = _become_child(kernel, child_id, mine, all_fds, files)
        child = kernel.make_child(listener)
        _report(w, f"R {os.getpid()}")
        os.close(w)
    except BaseException as e:  # any failure: told to the parent, then this child ends
        try:
            log_exception("fork child")
        finally:
            _report(w, f"E {e}")
            os._exit(70)
    try:
        child.serve_forever()
    finally:
        os._exit(1)


def _become_child(kernel, child_id, mine, all_fds, files):
    try:
        cwd = os.getcwd()
    except OSError:
        cwd = "/"
    # Nothing of the parent's channels may stay open here: its listener, its host
    # connections, its output pipes.
    kernel.forget_channels()
    for fd in all_fds:
        if fd not in mine:
            _close(fd)
    ns_fds, listen_fd = mine[:-1], mine[-1]
    for fd, nstype in zip(ns_fds, CHILD_NS):
        _setns(fd, nstype)
        os.close(fd)
    capabilities.drop()  # joining the family's user namespace gave them back
    try:
        os.chdir(cwd)
    except OSError:
        os.chdir("/")
    _drop_unfinished_uploads()
    _reopen_files(files)
    _reseed()
    os.environ["HOSTNAME"] = child_id
    if not environ_block.set_in_block("HOSTNAME", child_id):
        log(f"fork: /proc/self/environ keeps the parent's HOSTNAME (no room for {child_id!r})")
    if landlock.available():
        landlock.restrict()  # the child's kernel domain, beside the parent's user domain
    return socket.socket(fileno=listen_fd)


def _drop_unfinished_uploads():
    """The parent's uploads under way were copied half-written into this root: none of them
    completes here (the file appears only when its upload is done, and that is the parent's)."""
    for tmp in uploads_in_flight():
        try:
            os.unlink(tmp)
        except OSError:
            pass


def _reopen_files(files):
    """The REPL's open regular files, reopened by path in this child's root (the same path
    names the child's copy) at the same offset, so its writes never reach the parent's files."""
    for fd_text, path in files.items():
        fd = int(fd_text)
        try:
            flags = fcntl.fcntl(fd, fcntl.F_GETFL)
            pos = os.lseek(fd, 0, os.SEEK_CUR)
            inheritable = os.get_inheritable(fd)
            new = os.open(path, flags & ~(os.O_CREAT | os.O_EXCL | os.O_TRUNC))
            os.lseek(new, pos, os.SEEK_SET)
            os.dup2(new, fd, inheritable=inheritable)
            os.close(new)
        except OSError as e:
            log(f"fork: could not reopen fd {fd} ({path}): {e}")


def _reseed():
    # CPython reseeds `random` after fork already; numpy's global generator is not.
    mod = sys.modules.get("random")
    if mod is not None:
        mod.seed()
    np_random = sys.modules.get("numpy.random")
    if np_random is not None:
        try:
            np_random.seed()
        except Exception:  # numpy's own failure must not fail the fork
            log_exception("fork: numpy reseed")


def _close(fd):
    try:
        os.close(fd)
    except OSError:
        pass
