"""diff(): compare two sandboxes' files, client-side.

The same Python snippet runs in both sandboxes (in a fresh globals dict, so the user's
REPL namespace is untouched) and prints ``{path: [size, mtime_ns, sha256 | None]}`` as
JSON; sha256 is None for files over 1 MB, which are then compared by size and mtime.
The TypeScript SDK carries the identical text (packages/sdk/src/diff.ts);
tests/conformance/sdk-copies.test.ts checks they are equal.
"""

from __future__ import annotations

import json
import threading
from typing import Any, Iterable

from .errors import SandboxRuntimeError

DIFF_SNIPPET = '''import hashlib, json, os, stat

LIMIT = 1048576
# Kernel views, not files: endless to read (/proc/*/pagemap) and never the sandbox's work.
SKIP = ("/proc", "/sys", "/dev")


def _skipped(path):
    return any(path == s or path.startswith(s + "/") for s in SKIP)


def _entry(path, st):
    if stat.S_ISDIR(st.st_mode):
        return [0, "0", "dir"]
    if stat.S_ISLNK(st.st_mode):
        target = os.fsencode(os.readlink(path))
        return [len(target), str(st.st_mtime_ns), "link:" + hashlib.sha256(target).hexdigest()]
    if stat.S_ISREG(st.st_mode) and st.st_size <= LIMIT:
        digest = hashlib.sha256()
        try:
            with open(path, "rb") as f:
                read = 0
                for block in iter(lambda: f.read(65536), b""):
                    digest.update(block)
                    read += len(block)
                    if read > LIMIT:  # more than it said it holds: compared by size and mtime
                        return [st.st_size, str(st.st_mtime_ns), None]
        except OSError:
            return [st.st_size, str(st.st_mtime_ns), None]
        return [st.st_size, str(st.st_mtime_ns), digest.hexdigest()]
    return [st.st_size, str(st.st_mtime_ns), None]


def _walk(roots):
    out = {}
    for root in roots:
        if _skipped(os.path.abspath(root)):
            continue
        try:
            st = os.lstat(root)
        except OSError:
            continue
        out[root] = _entry(root, st)
        if not stat.S_ISDIR(st.st_mode):
            continue
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = [d for d in dirnames if not _skipped(os.path.join(dirpath, d))]
            for name in dirnames + filenames:
                path = os.path.join(dirpath, name)
                try:
                    out[path] = _entry(path, os.lstat(path))
                except OSError:
                    pass
    return out


print(json.dumps(_walk(PATHS), sort_keys=True, separators=(",", ":")))
'''


def diff_code(paths: Iterable[str]) -> str:
    """The exec code that prints the snapshot of ``paths``."""
    return "exec(%s, {\"__name__\": \"__podflare_diff__\", \"PATHS\": %s})" % (
        json.dumps(DIFF_SNIPPET, ensure_ascii=False),
        json.dumps(list(paths), separators=(",", ":"), ensure_ascii=False),
    )


def _differs(a: list[Any], b: list[Any]) -> bool:
    if a[0] != b[0]:
        return True
    if a[2] is not None and b[2] is not None:
        return a[2] != b[2]
    return a[1] != b[1]


def compare_snapshots(a: dict[str, list[Any]], b: dict[str, list[Any]]) -> dict[str, list[str]]:
    """What changed going from snapshot ``a`` to snapshot ``b``."""
    return {
        "added": sorted(p for p in b if p not in a),
        "removed": sorted(p for p in a if p not in b),
        "modified": sorted(p for p in a if p in b and _differs(a[p], b[p])),
    }


def snapshot(sb: Any, code: str) -> dict[str, Any]:
    """Runs the helper (``code``, from diff_code) in the sandbox ``sb`` and parses its snapshot."""
    r = sb.run_code(code, "python")
    lines = r.stdout.rstrip("\n").split("\n")
    if r.exit_code == 0:
        try:
            snap = json.loads(lines[-1])
            if isinstance(snap, dict):
                return snap
        except ValueError:
            pass
    raise SandboxRuntimeError(
        f"diff helper failed in {sb.id} (exit {r.exit_code}): {(r.stderr or lines[-1])[-500:]}")


def diff_sandboxes(a: Any, b: Any, paths: Iterable[str]) -> dict[str, list[str]]:
    """Snapshots both sandboxes at once (``b`` in a thread) and compares them: "added" exist
    only in ``b``."""
    code = diff_code(paths)
    theirs: dict[str, Any] = {}

    def snap_other() -> None:
        try:
            theirs["value"] = snapshot(b, code)
        except BaseException as err:  # re-raised below, in the caller's thread
            theirs["error"] = err

    worker = threading.Thread(target=snap_other, daemon=True)
    worker.start()
    try:
        mine = snapshot(a, code)
    finally:
        worker.join()
    if "error" in theirs:
        raise theirs["error"]
    return compare_snapshots(mine, theirs["value"])
