"""Fork a running sandbox's guest kernel into n prepared children (DESIGN.md section 5).

Run as root by hostd, after it froze the parent, snapshotted its root once per child and
thawed it, with a JSON config on stdin:
  {family: {pid, startTime}, uidBase, uidCount, guestDir,
   parent: {initPid, initStartTime, socket, cgroupProcs},
   children: [{id, rootfs, socket, cgroupProcs}]}
For each child it starts a sandbox init inside the parent's family (launch.py's join mode),
then sends the parent kernel a `fork` frame carrying, with SCM_RIGHTS, per child its init's
mnt/net/uts/ipc/cgroup namespaces and a listening socket bound at the child's socket path. The
parent kernel forks the children (they are its children until it dies, then the family init's);
this script moves each into its cgroup and prints
  {"children": [{id, initPid, initStartTime, kernelPid}], "landlock": bool}
or {"error": "...", "code": "..."} after killing whatever it started.

With `fresh: true` (the warm pool's spawn from a pristine zygote kernel, docs/security.md, "Warm pool spawn")
each child gets a family of its own, nested below the parent's (launch.py's nested family;
children carry `familyCgroupProcs`), the frame also passes that family's user and pid
namespaces, and each answer also has {familyPid, familyStartTime}.
"""

import json
import os
import signal
import socket
import struct
import sys
import time

import enter
import family_init
import linux
import sandbox_init
import setup_child
from launch_config import load_config
from readiness import READY_TIMEOUT_S, Reader

ANSWER_TIMEOUT_S = 30.0
# The guest frame protocol's bound (packages/protocol/src/frames.ts FRAME_MAX_BYTES): the
# parent's kernel runs tenant code, so a larger length is refused before it is buffered.
FRAME_MAX_BYTES = 8 * 1024 * 1024
NS_ORDER = ("mnt", "net", "uts", "ipc", "cgroup")


class ForkError(Exception):
    def __init__(self, msg: str, code: str = "internal"):
        super().__init__(msg)
        self.code = code


def encode(header: dict) -> bytes:
    head = json.dumps(header, separators=(",", ":")).encode()
    return struct.pack(">II", 4 + len(head), len(head)) + head


class FrameReader:
    def __init__(self, sock: socket.socket):
        self.sock, self.buf = sock, b""

    def next(self) -> dict:
        while True:
            if len(self.buf) >= 8:
                total, head_len = struct.unpack(">II", self.buf[:8])
                if total > FRAME_MAX_BYTES or total < 4:
                    raise ForkError(f"the parent's guest kernel sent a bad frame length {total}")
                if head_len > total - 4:
                    raise ForkError(f"the parent's guest kernel sent a bad frame header length {head_len}")
                if len(self.buf) >= 4 + total:
                    head = json.loads(self.buf[8:8 + head_len])
                    self.buf = self.buf[4 + total:]
                    return head
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ForkError("the parent's guest kernel closed the connection during fork")
            self.buf += chunk


def ns_pids(pid: int) -> list:
    """The process's pids from the host's pid namespace down to its own (NSpid)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("NSpid:"):
                return [int(x) for x in line.split()[1:]]
    return []


def ns_pid_of(pid: int, level: int) -> int:
    """pid at one level of nesting (1: a family's pid namespace below the host's), 0 if none."""
    pids = ns_pids(pid)
    return pids[level] if 0 < level < len(pids) else 0


def parent_kernel(parent: dict, kernel_ns_pid: int, family_pid: int) -> int:
    """Host pid of the parent's guest kernel, known by its pid in the family namespace. The
    kernel is exactly as deep as its family init (one level below the host's, or two for a
    family the warm pool's spawn nested below the zygote's), so a process of a pid namespace
    made inside the sandbox never matches."""
    level = len(ns_pids(family_pid)) - 1
    with open(parent["cgroupProcs"][0]) as f:
        pids = [int(x) for x in f.read().split()]
    for pid in pids:
        try:
            if len(ns_pids(pid)) == level + 1 and ns_pid_of(pid, level) == kernel_ns_pid:
                return pid
        except OSError:
            continue
    raise ForkError("the parent's guest kernel is not running", "conflict")


def open_files(kernel_pid: int) -> dict:
    """fd -> path of the kernel's open regular files (paths as seen inside the sandbox)."""
    out = {}
    base = f"/proc/{kernel_pid}/fd"
    for name in os.listdir(base):
        try:
            st = os.stat(f"{base}/{name}")
            if not (st.st_mode & 0o170000 == 0o100000):
                continue
            link = os.readlink(f"{base}/{name}")
        except OSError:
            continue
        if link.startswith("/") and not link.endswith(" (deleted)"):
            out[name] = link
    return out


def host_pids(kernel_pid: int, forked: list) -> list:
    """Host pids of the parent kernel's fork children, known by the pids fork() gave the
    parent (in the parent's pid namespace: a fresh child's own namespace is one level below)."""
    level = len(ns_pids(kernel_pid)) - 1
    by_ns = {}
    for tid in os.listdir(f"/proc/{kernel_pid}/task"):
        try:
            with open(f"/proc/{kernel_pid}/task/{tid}/children") as f:
                candidates = [int(x) for x in f.read().split()]
        except OSError:
            continue
        for pid in candidates:
            try:
                by_ns[ns_pid_of(pid, level)] = pid
            except OSError:
                continue
    missing = [p for p in forked if p not in by_ns]
    if missing:
        raise ForkError(f"fork children {missing} vanished right after fork")
    return [by_ns[p] for p in forked]


def channel() -> tuple:
    """A launch channel: our reader (credentials on) and the end a setup child gets."""
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    ours.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
    return Reader(ours, time.monotonic() + READY_TIMEOUT_S), theirs


def main() -> int:
    made = []  # (pidfd of an init or kernel)
    try:
        linux.set_oom_score_adj(linux.SANDBOX_OOM_SCORE_ADJ)  # before forking into the sandbox
        cfg = json.loads(sys.stdin.read())
        family = (int(cfg["family"]["pid"]), int(cfg["family"]["startTime"]))
        parent = cfg["parent"]
        enter.check_init(parent["initPid"], int(parent["initStartTime"]))
        if linux.start_time(family[0]) != family[1]:
            raise ForkError("the sandbox's family init is gone", "conflict")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(ANSWER_TIMEOUT_S)
        sock.connect(parent["socket"])
        frames = FrameReader(sock)
        hello = frames.next()
        if hello.get("t") != "hello" or not isinstance(hello.get("pid"), int):
            raise ForkError("the parent's guest kernel did not greet")
        kernel_pid = parent_kernel(parent, hello["pid"], family[0])
        files = open_files(kernel_pid)

        fds = []
        inits = []
        fresh = cfg.get("fresh") is True
        families = []  # fresh: each child's own family (pid, start time)
        # Every child's family (fresh) and init is started at once, then waited for: the
        # set-ups overlap. A channel is made just before its setup child is forked, so no
        # setup child holds a later one's end.
        kids = []
        family_pending = []
        pending = []
        try:
            configs = [load_config(json.dumps({
                "id": child["id"], "rootfs": child["rootfs"], "guestDir": cfg["guestDir"],
                "uidBase": cfg["uidBase"], "uidCount": cfg.get("uidCount", 65536),
                "cgroupProcs": child["cgroupProcs"],
                "familyCgroupProcs": child.get("familyCgroupProcs", child["cgroupProcs"]),
                "family": {"pid": family[0], "startTime": family[1]},
                # The ceilings of the child's family (counters.py), written by its setup: a
                # fresh one's, made here (nested), or the parent's, for its new size.
                **({"familyLimits": cfg["familyLimits"]} if cfg.get("familyLimits") else {}),
            })) for child in cfg["children"]]
            if fresh:
                for ccfg in configs:
                    reader, theirs = channel()
                    family_pending.append(family_init.begin_nested_family(ccfg, family, reader, theirs, kids,
                                                                          tuple(family_pending)))
                    theirs.close()
                for p in family_pending:
                    fam = family_init.finish_nested_family(p, kids)
                    made.append(os.pidfd_open(fam[0]))
                    families.append(fam)
            for i, ccfg in enumerate(configs):
                reader, theirs = channel()
                child_family = families[i] if fresh else family
                pending.append(sandbox_init.begin_sandbox(ccfg, child_family, reader, theirs, kids,
                                                          tuple(pending)))
                theirs.close()
            for p in pending:
                init_pid, start = sandbox_init.finish_sandbox(p, kids)
                made.append(os.pidfd_open(init_pid))
                inits.append((init_pid, start))
        except BaseException:
            # Family inits made but not yet counted in `made` (killing one ends its nested pid
            # namespace), then inits whose pid may still be in flight.
            for p in family_pending:
                fpid = p.reader.family_pid
                if fpid and not any(fpid == f for f, _ in families):
                    try:
                        made.append(os.pidfd_open(fpid))
                    except OSError:
                        pass
            for p in pending:
                pid = p.reader.find_init(2.0) if p.reader.init_pid == 0 else p.reader.init_pid
                if pid and not any(pid == i for i, _ in inits):
                    try:
                        made.append(os.pidfd_open(pid))
                    except OSError:
                        pass
            for k in kids:
                try:
                    os.kill(k, signal.SIGKILL)
                    os.waitpid(k, 0)
                except OSError:
                    pass
            raise
        finally:
            for p in family_pending + pending:
                p.reader.sock.close()
        for i, (child, (init_pid, start)) in enumerate(zip(cfg["children"], inits)):
            if fresh:
                fpid, fstart = families[i]
                for name in ("user", "pid"):
                    fds.append(os.open(f"/proc/{fpid}/ns/{name}", os.O_RDONLY | os.O_CLOEXEC))
                if linux.start_time(fpid) != fstart:
                    raise ForkError(f"the family init of {child['id']} is gone")
            for name in NS_ORDER:
                fds.append(os.open(f"/proc/{init_pid}/ns/{name}", os.O_RDONLY | os.O_CLOEXEC))
            enter.check_init(init_pid, start)
            listener = enter.listen_on(child["socket"])
            fds.append(os.dup(listener.fileno()))
            listener.close()

        header = {"t": "fork", "id": 1, "children": [c["id"] for c in cfg["children"]],
                  "files": files, "fresh": fresh}
        sock.sendmsg([encode(header)], [(socket.SOL_SOCKET, socket.SCM_RIGHTS,
                                         struct.pack(f"{len(fds)}i", *fds))])
        for fd in fds:
            os.close(fd)
        while True:
            answer = frames.next()
            if answer.get("id") == 1 and answer.get("t") in ("forked", "error"):
                break
        sock.close()
        if answer["t"] == "error":
            code = "fork_depth" if answer.get("code") == "busy" else "internal"
            raise ForkError(answer.get("message", "fork failed"), code)
        kernels = host_pids(kernel_pid, answer["pids"])
        out = []
        for i, (child, (init_pid, start), kpid) in enumerate(zip(cfg["children"], inits, kernels)):
            made.append(os.pidfd_open(kpid))
            for path in child["cgroupProcs"]:
                with open(path, "w") as f:
                    f.write(str(kpid))
            entry = {"id": child["id"], "initPid": init_pid, "initStartTime": start,
                     "kernelPid": kpid}
            if fresh:
                entry["familyPid"], entry["familyStartTime"] = families[i]
            out.append(entry)
        sys.stdout.write(json.dumps({"children": out, "landlock": bool(answer.get("landlock"))}) + "\n")
        sys.stdout.flush()
        return 0
    except BaseException as e:  # anything: kill what was started, then report
        if not isinstance(e, ForkError):
            import traceback  # on an unexpected error only

            traceback.print_exc()
        for pidfd in made:
            setup_child.kill_and_wait(pidfd)
        code = e.code if isinstance(e, ForkError) else "internal"
        sys.stdout.write(json.dumps({"error": f"fork: {e}", "code": code}) + "\n")
        sys.stdout.flush()
        return 1


if __name__ == "__main__":
    sys.exit(main())
