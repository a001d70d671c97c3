"""A sandbox's inits as a 300-byte program instead of a forked Python.

The family init and each sandbox init only hold namespaces and reap children for as long as the
sandbox lives. Left as forks of the jail's Python, each kept ~1.7 MB of pages copied on write
by the processes that set it up; executing this tiny static x86-64 program instead keeps a
few kilobytes (docs/security.md, "Inits").

The program is written into a memfd by host root and made execute-only (mode 0111): the inits,
root only of their user namespace, cannot read it, so the kernel makes them non-dumpable from
the first instruction of the new image (would_dump), before the program itself sets
PR_SET_DUMPABLE to 0 too. Signal dispositions and the blocked mask survive exec: SIGCHLD stays
blocked, TERM/INT/HUP/PIPE ignored. Then it loops: reap every exited child (wait4 WNOHANG),
wait for the next SIGCHLD (rt_sigtimedwait). On other architectures, or where memfds cannot be
executed, the caller keeps its Python loop.
"""

import os
import platform
import struct

BASE = 0x400000
HEADERS = 64 + 56
PR_SET_DUMPABLE, PR_SET_NAME = 4, 15
SYS_PRCTL, SYS_WAIT4, SYS_RT_SIGTIMEDWAIT = 157, 61, 128
WNOHANG = 1
SIGCHLD_MASK = 1 << (17 - 1)

_fds = {}


def _code(name: bytes) -> bytes:
    """The x86-64 machine code, with the name and the signal set after it."""
    prologue = (
        b"\xbf" + struct.pack("<I", PR_SET_DUMPABLE) + b"\x31\xf6"        # mov edi, 4; xor esi, esi
        + b"\xb8" + struct.pack("<I", SYS_PRCTL) + b"\x0f\x05"            # mov eax, prctl; syscall
        + b"\xbf" + struct.pack("<I", PR_SET_NAME)                        # mov edi, 15
    )
    # lea rsi, [rip + name] comes next (7 bytes); its displacement is filled in below.
    after_lea = (
        b"\xb8" + struct.pack("<I", SYS_PRCTL) + b"\x0f\x05"              # mov eax, prctl; syscall
    )
    reap = (
        b"\x48\xc7\xc7\xff\xff\xff\xff"                                   # mov rdi, -1
        + b"\x31\xf6"                                                     # xor esi, esi
        + b"\xba" + struct.pack("<I", WNOHANG)                            # mov edx, WNOHANG
        + b"\x45\x31\xd2"                                                 # xor r10d, r10d
        + b"\xb8" + struct.pack("<I", SYS_WAIT4) + b"\x0f\x05"            # mov eax, wait4; syscall
        + b"\x48\x85\xc0"                                                 # test rax, rax
    )
    # jg reap (2 bytes), then lea rdi, [rip + set] (7 bytes), then:
    wait = (
        b"\x31\xf6\x31\xd2"                                               # xor esi, esi; xor edx, edx
        + b"\x41\xba\x08\x00\x00\x00"                                     # mov r10d, 8 (sigset size)
        + b"\xb8" + struct.pack("<I", SYS_RT_SIGTIMEDWAIT) + b"\x0f\x05"  # mov eax, ...; syscall
    )
    # jmp reap (2 bytes)
    lea_rsi_at = len(prologue)
    reap_at = lea_rsi_at + 7 + len(after_lea)
    jg_at = reap_at + len(reap)
    lea_rdi_at = jg_at + 2
    jmp_at = lea_rdi_at + 7 + len(wait)
    name_at = jmp_at + 2
    set_at = (name_at + len(name) + 1 + 7) & ~7
    code = bytearray()
    code += prologue
    code += b"\x48\x8d\x35" + struct.pack("<i", name_at - (lea_rsi_at + 7))
    code += after_lea
    code += reap
    code += b"\x7f" + struct.pack("<b", reap_at - (jg_at + 2))
    code += b"\x48\x8d\x3d" + struct.pack("<i", set_at - (lea_rdi_at + 7))
    code += wait
    code += b"\xeb" + struct.pack("<b", reap_at - (jmp_at + 2))
    code += name + b"\0"
    code += b"\0" * (set_at - len(code))
    code += struct.pack("<Q", SIGCHLD_MASK)
    return bytes(code)


def elf(name: str) -> bytes:
    code = _code(name.encode()[:15])
    size = HEADERS + len(code)
    header = (b"\x7fELF" + bytes([2, 1, 1, 0]) + b"\0" * 8
              + struct.pack("<HHIQQQIHHHHHH", 2, 0x3E, 1, BASE + HEADERS, 64, 0, 0, 64, 56, 1, 0, 0, 0))
    phdr = struct.pack("<IIQQQQQQ", 1, 5, 0, BASE, BASE, size, size, 0x1000)
    return header + phdr + code


def program_fd(name: str) -> int | None:
    """An execute-only memfd holding the program named `name` (made once per process), or None
    where it cannot run. Must be called as host root, before entering a user namespace."""
    if name in _fds or platform.machine() != "x86_64" or not hasattr(os, "memfd_create"):
        return _fds.get(name)
    try:
        fd = os.memfd_create(name, os.MFD_CLOEXEC)
        os.write(fd, elf(name))
        os.fchmod(fd, 0o111)
    except OSError:
        return None
    _fds[name] = fd
    return fd


def inherited(name: str) -> int | None:
    """The program's memfd made by an ancestor (never made here: an init that made it could
    read it, and would stay dumpable until its first instruction)."""
    return _fds.get(name)


def become(fd: int | None, name: str) -> None:
    """Replace this process (an init, signals set up) with the program; returns only if the
    exec failed, so the caller can fall back to its own loop."""
    if fd is None:
        return
    try:
        os.execve(fd, [name], {})
    except OSError:
        return
