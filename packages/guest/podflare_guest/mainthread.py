# After fork() from a thread other than the main one, CPython 3.13+ makes the forking thread the
# child's main thread (`_PyRuntime.main_thread`) but keeps `_PyRuntime.main_tstate` pointing at
# the parent's main thread state, which in the child is gone (its slot is reused by the next
# thread started). A signal then sets its "pending" bit on that stale state, and the child's
# main thread runs Python handlers only when something else makes it look: a busy loop in a
# fork child is never interrupted (measured: timeout_ms hit 137, not 124). The forker thread
# forks, so every fork child and every pooled sandbox spawned from a zygote needs this.
#
# The fix points main_tstate at the child's own thread state. The field has no API, so its
# place is found once, in the parent's main thread: the pair (main thread id, main thread
# state) in the first 64 KB of `_PyRuntime`. Where the pair is not found (another layout), the
# child is left as it was.

import ctypes
import sys
import threading

SCAN_BYTES = 65536

_offset = None  # of main_thread in _PyRuntime; main_tstate is the next word


def _runtime():
    api = ctypes.pythonapi
    api.PyThreadState_Get.restype = ctypes.c_void_p
    return api, ctypes.addressof(ctypes.c_char.in_dll(api, "_PyRuntime"))


def _find(base, ident, tstate):
    raw = ctypes.string_at(base, SCAN_BYTES)
    pattern = ident.to_bytes(8, sys.byteorder) + tstate.to_bytes(8, sys.byteorder)
    at = raw.find(pattern)
    while at >= 0 and at % 8:
        at = raw.find(pattern, at + 1)
    return None if at < 0 else at


def note():
    """In the main thread, at start: where main_thread and main_tstate are."""
    global _offset
    try:
        api, base = _runtime()
        _offset = _find(base, threading.get_ident(), api.PyThreadState_Get())
    except (AttributeError, ValueError, OSError):
        _offset = None


def adopt():
    """In a fork child, before it starts any thread: make its thread state the main one.
    True when done."""
    if _offset is None or ctypes.sizeof(ctypes.c_void_p) != 8:
        return False
    api, base = _runtime()
    ident = ctypes.c_uint64.from_address(base + _offset)
    if ident.value != threading.get_ident():  # not the layout we found: leave it
        return False
    ctypes.c_void_p.from_address(base + _offset + 8).value = api.PyThreadState_Get()
    return True
