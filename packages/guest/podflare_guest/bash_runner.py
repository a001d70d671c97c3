# A fresh `bash` per call, its output streamed as produced, on the main thread.

import errno
import os
import selectors
import subprocess
import threading

from .lines import LineBuffer
from .log import log

# Longer code goes through a pipe as the script file: one argv string is capped at 128 KiB.
ARGV_CODE_MAX_BYTES = 100 * 1024
IDLE_FLUSH_S = 0.005
_READ_BYTES = 256 * 1024
# After bash exits, read at most this much more before handing the pipes to the drainer,
# so a chatty background child cannot hold the call open.
_TAIL_READS = 64


class BashRunner:
    def __init__(self, drainer):
        self.drainer = drainer

    def run(self, job, cwd, on_start):
        """Run job.code in cwd; stream out frames; return the exit code."""
        env = dict(os.environ)
        env.update(job.env or {})
        code = _encode(job.code)
        script_r = script_w = None
        if len(code) > ARGV_CODE_MAX_BYTES or b"\0" in code:
            script_r, script_w = os.pipe()
            # /proc, not /dev/fd: the sandbox's /dev holds only a few device nodes.
            argv = [_bash(), f"/proc/self/fd/{script_r}"]
        else:
            argv = [_bash(), b"-c", code]
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        try:
            proc = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=out_w, stderr=err_w, cwd=cwd, env=env,
                start_new_session=True, pass_fds=(script_r,) if script_r is not None else ())
        except OSError as e:
            for fd in (out_r, err_r, script_w):
                if fd is not None:
                    os.close(fd)
            why = str(e)
            if e.errno == errno.EAGAIN:
                why = ("the sandbox reached its process limit (pids); end its processes with "
                       "kill_processes (POST /v1/sandboxes/<id>/kill_processes) and try again")
            job.conn.send({"t": "out", "id": job.id, "fd": 2},
                          f"podflare: cannot start bash: {why}\n".encode("utf-8", "backslashreplace"))
            return 127
        finally:
            for fd in (out_w, err_w, script_r):
                if fd is not None:
                    os.close(fd)
        on_start(proc)
        if script_w is not None:
            threading.Thread(target=_feed_script, args=(script_w, code), daemon=True).start()
        return self._stream(job, proc, {out_r: 1, err_r: 2})

    def _stream(self, job, proc, fds):
        lines = {fd: LineBuffer() for fd in fds}

        def emit(fd, chunks):
            for chunk in chunks:
                job.conn.send({"t": "out", "id": job.id, "fd": fds[fd]}, chunk)

        open_fds = set(fds)
        sel = selectors.DefaultSelector()
        for fd in fds:
            os.set_blocking(fd, False)
            sel.register(fd, selectors.EVENT_READ)
        pidfd = _pidfd(proc.pid)
        if pidfd is not None:
            sel.register(pidfd, selectors.EVENT_READ)
        try:
            exited = False
            while not exited:
                pending = any(lb.pending for lb in lines.values())
                timeout = IDLE_FLUSH_S if pending else (None if pidfd is not None else 0.05)
                events = sel.select(timeout)
                if not events and pending:
                    for fd in lines:
                        emit(fd, lines[fd].flush())
                for key, _ in events:
                    if key.fd == pidfd:
                        exited = True
                    elif self._read(key.fd, lines, emit) is False:
                        sel.unregister(key.fd)
                        os.close(key.fd)
                        open_fds.discard(key.fd)
                if pidfd is None and proc.poll() is not None:
                    exited = True
            returncode = proc.wait()
            # Bash is gone, but background children may hold the pipes open: take only
            # what is already there (up to EAGAIN) instead of waiting for EOF.
            for fd in list(open_fds):
                for _ in range(_TAIL_READS):
                    more = self._read(fd, lines, emit)
                    if more is None:
                        break
                    if more is False:
                        os.close(fd)
                        open_fds.discard(fd)
                        break
            for fd in lines:
                emit(fd, lines[fd].flush())
        finally:
            sel.close()
            if pidfd is not None:
                os.close(pidfd)
        self.drainer.adopt(sorted(open_fds))
        return 128 - returncode if returncode < 0 else returncode

    @staticmethod
    def _read(fd, lines, emit):
        """Read once: True if data came, False at EOF, None if nothing is there now."""
        try:
            data = os.read(fd, _READ_BYTES)
        except BlockingIOError:
            return None
        if not data:
            return False
        emit(fd, lines[fd].feed(data))
        return True


def _bash():
    # Found with the kernel's PATH, so a request env that changes PATH cannot lose bash.
    # (shutil.which, without importing shutil and its compression modules at kernel start.)
    for d in os.environ.get("PATH", os.defpath).split(os.pathsep):
        cand = os.path.join(d or ".", "bash")
        if os.access(cand, os.F_OK | os.X_OK) and not os.path.isdir(cand):
            return cand
    return "/bin/bash"


def _encode(text):
    try:
        return text.encode("utf-8", "surrogateescape")  # file names that were not UTF-8
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass")


def _pidfd(pid):
    # A pidfd turns "bash exited" into a select event; without one, poll every 50 ms.
    try:
        return os.pidfd_open(pid)
    except (AttributeError, OSError):
        return None


def _feed_script(fd, code):
    try:
        view = memoryview(code)
        while view:
            view = view[os.write(fd, view):]
    except BrokenPipeError:
        pass  # bash exited before reading it all
    except OSError as e:
        log(f"bash script pipe: {e}")
    finally:
        os.close(fd)
