# Entry point: prepare the process (std fds, the listening socket, a clean __main__,
# Landlock's kernel domain), then hand over to the kernel (kernel.py).

import os
import socket
import stat
import sys

from . import landlock, mainthread
from . import log as logmod
from .kernel import Kernel
from .log import log

LISTEN_FD_ENV = "PODFLARE_LISTEN_FD"
KERNEL_ONLY_ENV = "PODFLARE_KERNEL_ONLY_ENV"


def _ensure_std_fds():
    # With 0/1/2 closed, our own pipes could land on them and be clobbered by dup2.
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            new = os.open(os.devnull, os.O_RDWR)
            if new != fd:
                os.dup2(new, fd)
                os.close(new)


def _listener(argv):
    listen_fd = os.environ.pop(LISTEN_FD_ENV, None)
    # Settings hostd meant for this process alone (glibc's huge-page heap): read at exec,
    # so user code and its subprocesses need not inherit them.
    for name in os.environ.pop(KERNEL_ONLY_ENV, "").split(","):
        os.environ.pop(name, None)
    opts = {"--listen": None, "--bash-cwd": None}
    i = 0
    while i < len(argv):
        if argv[i] in opts and i + 1 < len(argv):
            opts[argv[i]] = argv[i + 1]
            i += 2
        else:
            raise SystemExit(f"podflare guest: unknown argument {argv[i]!r}; "
                             "usage: [--listen SOCKET_PATH] [--bash-cwd DIR]")
    if opts["--listen"]:
        path = opts["--listen"]
        if os.path.exists(path) and stat.S_ISSOCK(os.lstat(path).st_mode):
            os.unlink(path)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.bind(path)
        sock.listen(64)
        sock.setblocking(True)
    elif listen_fd is not None:
        fd = int(listen_fd)
        os.set_inheritable(fd, False)  # user subprocesses must not get the control socket
        sock = socket.socket(fileno=fd)
    else:
        raise SystemExit(f"podflare guest: set {LISTEN_FD_ENV} or pass --listen SOCKET_PATH")
    return sock, opts["--bash-cwd"]


def _clean_main_namespace():
    # The `python3 -c` launcher leaves its own names (sys, main) in __main__; the user's
    # globals start empty, as in a fresh interpreter.
    g = sys.modules["__main__"].__dict__
    for name in list(g):
        if not (name.startswith("__") and name.endswith("__")):
            del g[name]


def main(argv=None):
    _ensure_std_fds()
    listener, bash_cwd = _listener(sys.argv[1:] if argv is None else argv)
    logmod.init()
    sys.argv = [""]  # what user code sees in an interactive interpreter
    base_dir = os.getcwd()
    _clean_main_namespace()
    mainthread.note()  # for fork children (mainthread.py)
    if landlock.available():
        # The kernel domain, for the kernel's own threads (landlock.py).
        try:
            landlock.restrict()
        except OSError as e:
            log(f"landlock: cannot restrict: {e}")
    kernel = Kernel(listener, base_dir, os.path.abspath(bash_cwd) if bash_cwd else base_dir)
    kernel.serve_forever()
