# Reaping the kernel's own dead children after hostd's kill_processes: a fork loop run in the
# REPL leaves its killed children as zombies of the kernel, and zombies hold their pids
# against the sandbox's pids limit until someone waits for them.

import gc
import os
import sys

from .log import log


def zombie_children(keep=()):
    """Pids of the kernel's children (any thread's) that are zombies, except `keep`."""
    me = os.getpid()
    pids = set()
    try:
        tids = os.listdir(f"/proc/{me}/task")
    except OSError:
        return []
    for tid in tids:
        try:
            with open(f"/proc/{me}/task/{tid}/children") as f:
                pids.update(int(p) for p in f.read().split())
        except (OSError, ValueError):
            continue
    out = []
    for pid in pids - set(keep):
        try:
            with open(f"/proc/{pid}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        if stat[stat.rindex(")") + 2:].startswith("Z"):
            out.append(pid)
    return out


def reap(keep=()):
    """Waits for every zombie child but `keep` (children the kernel waits for itself);
    returns how many were reaped."""
    n = 0
    for pid in zombie_children(keep):
        try:
            if os.waitpid(pid, os.WNOHANG)[0] == pid:
                n += 1
        except ChildProcessError:
            pass
        except OSError as e:
            log(f"reap {pid}: {e}")
    return n


def tracked_pids():
    """Pids user code will wait for itself (live subprocess / multiprocessing Popen objects):
    reaping those would make their wait() report 0 instead of how they died."""
    kinds = tuple(getattr(sys.modules.get(m), "Popen", None)
                  for m in ("subprocess", "multiprocessing.popen_fork"))
    kinds = tuple(k for k in kinds if isinstance(k, type))
    if not kinds:
        return set()
    return {o.pid for o in gc.get_objects()
            if isinstance(o, kinds) and getattr(o, "returncode", 0) is None and isinstance(o.pid, int)}
