"""btrfs snapshots and qgroup limits by ioctl, as `btrfs subvolume snapshot` and `btrfs qgroup
limit -e` issue them, without starting btrfs-progs once per call (a process start costs more
than the snapshot itself). Served by the jail server (op "btrfs").

Config on stdin: {"snapshots": [{"src", "dst", "readOnly"?}], "limits": [{"path", "bytes"}],
"groups": [{"path", "group", "bytes"}], "assigns": [{"path", "group"}], "deletes": [path]}
(`bytes` null removes the limit). Snapshots, then limits, then groups (a level-1 qgroup 1/group
of the pool `path` is in, made if missing, its exclusive limit set: one tenant's share of the
pool), then assigns (the subvolume at `path` joins 1/group: its writes count there too), then
deletes (`btrfs subvolume delete`: the whole subvolume, not the subvolumes nested in it); stops
at the first failure. Prints {"ok": true} or {"error": "...", "errno": N}.
"""

import errno

import fcntl
import json
import os
import struct
import sys

# _IOW(0x94, 23, struct btrfs_ioctl_vol_args_v2), 4096 bytes
BTRFS_IOC_SNAP_CREATE_V2 = 0x50009417
# _IOW(0x94, 15, struct btrfs_ioctl_vol_args), 4096 bytes
BTRFS_IOC_SNAP_DESTROY = 0x5000940F
# _IOR(0x94, 43, struct btrfs_ioctl_qgroup_limit_args), 48 bytes
BTRFS_IOC_QGROUP_LIMIT = 0x8030942B
# _IOW(0x94, 41, struct btrfs_ioctl_qgroup_assign_args), 24 bytes
BTRFS_IOC_QGROUP_ASSIGN = 0x40189429
# _IOW(0x94, 42, struct btrfs_ioctl_qgroup_create_args), 16 bytes
BTRFS_IOC_QGROUP_CREATE = 0x4010942A
# _IOWR(0x94, 18, struct btrfs_ioctl_ino_lookup_args), 4096 bytes
BTRFS_IOC_INO_LOOKUP = 0xD0009412
BTRFS_FIRST_FREE_OBJECTID = 256
GROUP_ID_MAX = (1 << 48) - 1
BTRFS_SUBVOL_RDONLY = 1 << 1
BTRFS_QGROUP_LIMIT_MAX_EXCL = 1 << 1
NAME_MAX = 4039  # BTRFS_SUBVOL_NAME_MAX
U64_MAX = (1 << 64) - 1


def snapshot(src: str, dst: str, read_only: bool = False) -> None:
    name = os.path.basename(dst).encode()
    if not name or len(name) > NAME_MAX or name in (b".", b".."):
        raise ValueError(f"bad snapshot name {dst!r}")
    src_fd = os.open(src, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        parent_fd = os.open(os.path.dirname(dst), os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            # fd, transid, flags, 4 x u64 (qgroup inherit: none), name[4040]
            args = bytearray(struct.pack("=qQQ32x4040s", src_fd, 0,
                                         BTRFS_SUBVOL_RDONLY if read_only else 0, name))
            fcntl.ioctl(parent_fd, BTRFS_IOC_SNAP_CREATE_V2, args)
        finally:
            os.close(parent_fd)
    finally:
        os.close(src_fd)


def delete(path: str) -> None:
    name = os.path.basename(path.rstrip("/")).encode()
    if not name or len(name) > NAME_MAX or name in (b".", b".."):
        raise ValueError(f"bad subvolume path {path!r}")
    parent_fd = os.open(os.path.dirname(path.rstrip("/")), os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        # fd (unused), name[4088]
        fcntl.ioctl(parent_fd, BTRFS_IOC_SNAP_DESTROY, bytearray(struct.pack("=q4088s", 0, name)))
    finally:
        os.close(parent_fd)


def limit_exclusive(path: str, nbytes) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        # qgroupid 0: the subvolume fd is in; then flags, max_rfer, max_excl, rsv_rfer, rsv_excl
        size = U64_MAX if nbytes is None else int(nbytes)
        args = bytearray(struct.pack("=QQQQQQ", 0, BTRFS_QGROUP_LIMIT_MAX_EXCL, 0, size, 0, 0))
        fcntl.ioctl(fd, BTRFS_IOC_QGROUP_LIMIT, args)
    finally:
        os.close(fd)


def _level1(group) -> int:
    if not isinstance(group, int) or isinstance(group, bool) or not 0 < group <= GROUP_ID_MAX:
        raise ValueError(f"bad group id {group!r}")
    return (1 << 48) | group


def _limit(fd: int, qgroupid: int, nbytes) -> None:
    size = U64_MAX if nbytes is None else int(nbytes)
    args = bytearray(struct.pack("=QQQQQQ", qgroupid, BTRFS_QGROUP_LIMIT_MAX_EXCL, 0, size, 0, 0))
    fcntl.ioctl(fd, BTRFS_IOC_QGROUP_LIMIT, args)


def group(path: str, gid, nbytes) -> None:
    qgroupid = _level1(gid)
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        try:
            fcntl.ioctl(fd, BTRFS_IOC_QGROUP_CREATE, struct.pack("=QQ", 1, qgroupid))
        except OSError as e:
            if e.errno != errno.EEXIST:
                raise
        _limit(fd, qgroupid, nbytes)
    finally:
        os.close(fd)


def assign(path: str, gid) -> None:
    qgroupid = _level1(gid)
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        # treeid 0: the subvolume the fd is in; the kernel writes its id back.
        args = bytearray(struct.pack("=QQ4080x", 0, BTRFS_FIRST_FREE_OBJECTID))
        fcntl.ioctl(fd, BTRFS_IOC_INO_LOOKUP, args)
        subvol = struct.unpack_from("=Q", args, 0)[0]
        try:
            # Simple quotas add the subvolume's usage to the group at once (no rescan).
            fcntl.ioctl(fd, BTRFS_IOC_QGROUP_ASSIGN, struct.pack("=QQQ", 1, subvol, qgroupid))
        except OSError as e:
            if e.errno != errno.EEXIST:
                raise
    finally:
        os.close(fd)


def main() -> int:
    try:
        cfg = json.loads(sys.stdin.read())
        for s in cfg.get("snapshots", []):
            snapshot(s["src"], s["dst"], bool(s.get("readOnly")))
        for lim in cfg.get("limits", []):
            limit_exclusive(lim["path"], lim.get("bytes"))
        for g in cfg.get("groups", []):
            group(g["path"], g["group"], g.get("bytes"))
        for a in cfg.get("assigns", []):
            assign(a["path"], a["group"])
        for path in cfg.get("deletes", []):
            delete(path)
        sys.stdout.write(json.dumps({"ok": True}) + "\n")
        return 0
    except Exception as e:  # reported as the answer
        sys.stdout.write(json.dumps({"error": f"btrfs: {e}", "errno": getattr(e, "errno", None)}) + "\n")
        return 1


if __name__ == "__main__":
    sys.exit(main())
