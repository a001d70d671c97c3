# The process's environment block: the bytes exec() laid out, which /proc/PID/environ shows
# (to `ps e`, and to anyone who can read it). os.environ changes only Python's copy and libc's
# table, never this block, so a forked kernel (a fork child, or a sandbox the warm pool
# spawned from its zygote) would still show its parent's HOSTNAME there. Rewriting it in place
# needs no privilege (moving it, PR_SET_MM, would need CAP_SYS_RESOURCE): a value of the same
# length or shorter fits (NUL-padded); a longer one is left alone and False is returned.

import ctypes


def _env_area():
    with open("/proc/self/stat", "rb") as f:
        data = f.read()
    # comm (field 2) may hold spaces and parentheses: split after the last ')'.
    rest = data[data.rindex(b")") + 2:].split()
    return int(rest[47]), int(rest[48])  # fields 50, 51: env_start, env_end


def set_in_block(name: str, value: str) -> bool:
    """Set NAME's value in the environment block, in place. True if the block now says so."""
    start, end = _env_area()
    block = ctypes.string_at(start, end - start)
    key = name.encode() + b"="
    if block.startswith(key):
        at = 0
    else:
        at = block.find(b"\0" + key) + 1
        if at == 0:
            return False
    old_end = block.find(b"\0", at)
    old_end = len(block) if old_end < 0 else old_end
    old_len = old_end - at - len(key)
    new = value.encode()
    if len(new) > old_len:
        return False
    raw = new + b"\0" * (old_len - len(new))
    ctypes.memmove(start + at + len(key), raw, len(raw))
    return True
