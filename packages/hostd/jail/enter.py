"""Start a process inside a running sandbox: join its namespaces and cgroup, exec argv.

Run as root by hostd with a JSON config on stdin:
  {initPid, initStartTime, cgroupProcs, argv, env?, cwd?, listenSocket?, wait?, seccomp?}
Default mode prints {"pid": N} (host pid) once the exec has succeeded, or {"error": "..."},
and exits; the process is forked twice inside the sandbox so that the sandbox init adopts
and reaps it. With "wait": true the
process keeps this script's stdio and the script exits with its status (tests, debugging);
set-up errors then go to stderr as one JSON line and the exit status is 125 (126/127 when
the exec itself failed, as in a shell).
"""

import fcntl
import json
import os
import resource
import socket
import stat
import struct
import sys

import disk_view
import linux
import seccomp

NAMESPACES = (  # user first: it grants the capabilities the other joins need
    ("user", linux.CLONE_NEWUSER),
    ("ipc", linux.CLONE_NEWIPC),
    ("uts", linux.CLONE_NEWUTS),
    ("net", linux.CLONE_NEWNET),
    ("pid", linux.CLONE_NEWPID),
    ("cgroup", linux.CLONE_NEWCGROUP),
    ("mnt", linux.CLONE_NEWNS),
)
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
NOFILE = 1048576
LISTEN_FD = 3


class EnterError(Exception):
    def __init__(self, msg: str, status: int = 125):
        super().__init__(msg)
        self.status = status


def load_config(raw: str) -> dict:
    cfg = json.loads(raw)
    if not isinstance(cfg, dict):
        raise EnterError("config must be a JSON object")
    for key in ("initPid", "initStartTime"):
        if not isinstance(cfg.get(key), int) or cfg[key] <= 0:
            raise EnterError(f"{key} must be a positive integer")
    argv = cfg.get("argv")
    if not isinstance(argv, list) or not argv or not all(isinstance(a, str) for a in argv):
        raise EnterError("argv must be a non-empty list of strings")
    env = cfg.get("env")
    if env is None:
        env = {"PATH": DEFAULT_PATH, "HOME": "/root", "LANG": "C.UTF-8"}
    if not isinstance(env, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                            for k, v in env.items()):
        raise EnterError("env must map strings to strings")
    cfg["env"] = dict(env)
    procs = cfg.get("cgroupProcs", [])
    if not isinstance(procs, list) or not all(isinstance(p, str) and p.startswith("/")
                                              for p in procs):
        raise EnterError("cgroupProcs must be a list of absolute paths")
    cfg["cgroupProcs"] = procs
    sock = cfg.get("listenSocket")
    if sock is not None and (not isinstance(sock, str) or not sock.startswith("/")):
        raise EnterError("listenSocket must be an absolute host path")
    cwd = cfg.get("cwd") or "/"
    if not isinstance(cwd, str):
        raise EnterError("cwd must be a string")
    cfg["cwd"] = cwd
    return cfg


def check_init(pid: int, start: int) -> None:
    try:
        actual = linux.start_time(pid)
    except (FileNotFoundError, ProcessLookupError):
        actual = None
    if actual != start:
        raise EnterError(f"sandbox init {pid} is gone (pid not running or reused)")


def listen_on(path: str) -> socket.socket:
    """A listening Unix socket at a host path only root can connect to."""
    try:
        if stat.S_ISSOCK(os.lstat(path).st_mode):
            os.unlink(path)
        else:
            raise EnterError(f"listenSocket {path} exists and is not a socket")
    except FileNotFoundError:
        pass
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old = os.umask(0o177)
    # Bound by a relative name from inside its directory: the kernel keeps the name as given,
    # and getsockname() or /proc/net/unix inside the sandbox would show a host path (the state
    # dir) otherwise. Callers connect by the full path, which names the same inode.
    here = os.open(".", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    where = os.open(os.path.dirname(path) or ".", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fchdir(where)
        sock.bind(os.path.basename(path))
    finally:
        os.fchdir(here)
        os.close(where)
        os.close(here)
        os.umask(old)
    os.chmod(path, 0o600)
    sock.listen(64)
    return sock


def raise_nofile() -> None:
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (NOFILE, NOFILE))
    except (ValueError, OSError):
        # Raising the hard limit needs CAP_SYS_RESOURCE; settle for the current hard limit.
        _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def resolve(argv0: str, env: dict) -> str:
    if "/" in argv0:
        return argv0
    for d in env.get("PATH", DEFAULT_PATH).split(":"):
        cand = os.path.join(d or ".", argv0)
        if os.path.isfile(cand) and os.access(cand, os.X_OK):
            return cand
    raise FileNotFoundError(2, f"{argv0}: not found in PATH")


def child_main(cfg: dict, devnull: int, sock, errw: int) -> None:
    """Runs in the sandbox's pid namespace. Never returns."""
    try:
        os.setsid()  # no controlling terminal of hostd's
        linux.become_root()
        # Until exec (which resets it), sandbox root could otherwise ptrace this process
        # before its seccomp filter is in place.
        linux.prctl(linux.PR_SET_DUMPABLE, 0)
        try:
            os.chdir(cfg["cwd"])
        except OSError:
            os.chdir("/")
        os.umask(0o022)
        env = cfg["env"]
        if devnull >= 0:
            for fd in (0, 1, 2):
                os.dup2(devnull, fd)
        keep = 3
        if sock is not None:
            os.dup2(sock.fileno(), LISTEN_FD)
            os.set_inheritable(LISTEN_FD, True)  # dup2 onto itself keeps CLOEXEC
            env["PODFLARE_LISTEN_FD"] = str(LISTEN_FD)
            keep = LISTEN_FD + 1
        filtered = cfg.get("seccomp", True) is not False
        sup = disk_view.client_fd() if filtered else -1
        if sup >= 0:  # above errw: kept through the closes below
            sup = fcntl.fcntl(sup, fcntl.F_DUPFD_CLOEXEC, errw + 1)
        os.closerange(keep, errw)
        if sup >= 0:
            os.closerange(errw + 1, sup)
        os.closerange(max(errw, sup) + 1, NOFILE)
        path = resolve(cfg["argv"][0], env)
        if filtered and sup >= 0:
            listener = seccomp.install_with_listener()
            try:
                disk_view.send_listener(sup, listener)
            except OSError:
                pass  # no supervisor: statfs answers ENOSYS in this sandbox, nothing else breaks
            os.close(listener)
            os.close(sup)
        elif filtered:
            seccomp.install()
        else:
            linux.prctl(linux.PR_SET_NO_NEW_PRIVS, 1)
        os.execve(path, cfg["argv"], env)
    except BaseException as e:  # reported to the parent through errw
        code = getattr(e, "errno", None) or 0
        try:
            os.write(errw, json.dumps({"errno": code, "error": str(e)}).encode())
        finally:
            os._exit(127)


def fork_orphan(run, errr: int) -> int:
    """Fork twice inside the sandbox's pid namespace so that the process is orphaned there
    and adopted (and later reaped) by the sandbox init, not by the host's pid 1. Returns its
    host pid, learnt from the credentials the kernel attaches to its first message."""
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    ours.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
    mid = os.fork()
    if mid == 0:
        try:
            ours.close()
            os.close(errr)
            if os.fork() == 0:
                theirs.send(b"P")
                theirs.close()
                run()
        finally:
            os._exit(0)
    theirs.close()
    os.waitpid(mid, 0)
    try:
        _, anc, _, _ = ours.recvmsg(1, socket.CMSG_SPACE(struct.calcsize("iII")))
    finally:
        ours.close()
    for level, kind, data in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
            return struct.unpack("iII", data[: struct.calcsize("iII")])[0]
    raise EnterError("the process could not be started inside the sandbox")


def start(cfg: dict) -> int:
    """Join the sandbox and fork the process; returns its host pid once exec succeeded."""
    wait = bool(cfg.get("wait"))
    check_init(cfg["initPid"], cfg["initStartTime"])
    raise_nofile()
    devnull = -1 if wait else os.open("/dev/null", os.O_RDWR | os.O_CLOEXEC)
    sock = listen_on(cfg["listenSocket"]) if cfg.get("listenSocket") else None
    for path in cfg["cgroupProcs"]:
        with open(path, "w") as f:
            f.write(str(os.getpid()))
    fds = []
    for name, _ in NAMESPACES:
        fds.append(os.open(f"/proc/{cfg['initPid']}/ns/{name}", os.O_RDONLY | os.O_CLOEXEC))
    # The fds now pin the namespaces; check they belong to the init we were told about.
    check_init(cfg["initPid"], cfg["initStartTime"])
    errr, low = os.pipe2(os.O_CLOEXEC)
    # Keep the write end above the fds the child sets up (0-3).
    errw = fcntl.fcntl(low, fcntl.F_DUPFD_CLOEXEC, 10)
    os.close(low)
    for fd, (name, nstype) in zip(fds, NAMESPACES):
        linux.setns(fd, nstype, f"setns {name}")
        os.close(fd)
    if wait:
        # The caller waits for this child's status, so it stays our child.
        pid = os.fork()
        if pid == 0:
            os.close(errr)
            child_main(cfg, devnull, sock, errw)
    else:
        pid = fork_orphan(lambda: child_main(cfg, devnull, sock, errw), errr)
    os.close(errw)
    if sock is not None:
        sock.close()
    data = b""
    while True:
        chunk = os.read(errr, 4096)
        if not chunk:
            break
        data += chunk
    os.close(errr)
    if data:
        if wait:
            os.waitpid(pid, 0)
        info = json.loads(data)
        status = {2: 127, 13: 126, 8: 126}.get(info.get("errno"), 125)
        raise EnterError(f"exec {cfg['argv'][0]}: {info.get('error')}", status)
    return pid


def main() -> int:
    wait = False
    try:
        linux.set_oom_score_adj(linux.SANDBOX_OOM_SCORE_ADJ)  # before forking into the sandbox
        cfg = load_config(sys.stdin.read())
        wait = bool(cfg.get("wait"))
        pid = start(cfg)
    except Exception as e:  # anything: the caller gets an error line and a status
        status = e.status if isinstance(e, EnterError) else 125
        line = json.dumps({"error": f"enter: {e}"}) + "\n"
        (sys.stderr if wait else sys.stdout).write(line)
        return status
    if not wait:
        sys.stdout.write(json.dumps({"pid": pid}) + "\n")
        sys.stdout.flush()
        return 0
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        return 128 + os.WTERMSIG(status)
    return os.WEXITSTATUS(status)


if __name__ == "__main__":
    sys.exit(main())
