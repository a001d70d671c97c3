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

This file is the entry point and the cleanup; the pieces (fork.py uses them too):
launch_config.py (the config), readiness.py (the channel and its messages), setup_child.py
(the pid-pinning setup children), family_init.py (families: made, nested, joined),
sandbox_init.py (the sandbox init), pid1.py (what both inits do once ready).
"""

import json
import os
import signal
import socket
import sys
import time

import linux
from family_init import make_family
from launch_config import load_config
from readiness import READY_TIMEOUT_S, Reader
from sandbox_init import start_sandbox
from setup_child import kill_and_wait


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
    except BaseException as e:  # broad on purpose: every failure becomes the JSON error answer
        msg = str(e) or type(e).__name__
        sys.stdout.write(json.dumps({"error": f"launch: {msg}"}) + "\n")
        sys.stdout.flush()
        return 1


if __name__ == "__main__":
    sys.exit(main())
