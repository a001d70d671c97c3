import os
import sys
import time
import unittest

from harness import GUEST_DIR, KernelTest

sys.path.insert(0, GUEST_DIR)
from podflare_guest.proc_run import Ring  # noqa: E402


class RingTest(unittest.TestCase):
    def test_keeps_the_newest_bytes_and_counts_on(self):
        r = Ring(10)
        r.add("stdout", b"12345")
        r.add("stderr", b"67890")
        r.add("stdout", b"abc")
        self.assertEqual([c[2] for c in r.chunks], [b"67890", b"abc"])
        self.assertEqual(r.next_seq, 3)
        self.assertEqual([c[0] for c in r.since(0)], [1, 2])

    def test_an_add_that_must_evict_an_unread_chunk_behind_a_read_one_waits(self):
        r = Ring(10)
        r.add("stdout", b"aaaa")  # seq 0: the reader has it
        r.add("stdout", b"bbbb")  # seq 1: not yet
        self.assertFalse(r.would_drop_unread(6, 1), "evicting the read chunk alone makes room")
        self.assertTrue(r.would_drop_unread(7, 1), "the unread chunk would go too")
        self.assertFalse(r.would_drop_unread(2, 0), "room without evicting anything")

    def test_one_chunk_larger_than_the_ring_keeps_its_tail(self):
        r = Ring(4)
        r.add("stdout", b"abcdefgh")
        self.assertEqual(r.chunks[0][2], b"efgh")


class ProcessFramesTest(KernelTest):
    def connect_all(self, pid, **extra):
        c = self.kernel.connect()
        try:
            req = c.new_id()
            c.send({"t": "proc_connect", "id": req, "pid": pid, **extra})
            out = []
            while True:
                h, body = c.recv_for(req)
                out.append((h["t"], h.get("stream"), body))
                if h["t"] in ("proc_exit", "error"):
                    return out, h
        finally:
            c.close()

    def test_start_stdin_connect_exit(self):
        h, _ = self.c.request({"t": "proc_start", "cmd": "cat; exit 4", "stdin": True, "max_running": 8,
                               "buffer_bytes": 4096})
        self.assertEqual(h["t"], "proc_started")
        pid = h["process"]["pid"]
        self.assertEqual(self.c.request({"t": "proc_input", "pid": pid}, b"hello\n")[0]["t"], "done")
        self.assertEqual(self.c.request({"t": "proc_close_stdin", "pid": pid})[0]["t"], "done")
        out, last = self.connect_all(pid)
        self.assertEqual(last["exit_code"], 4)
        self.assertEqual(b"".join(b for t, s, b in out if s == "stdout"), b"hello\n")

    def test_cap_and_unknown_pid(self):
        pids = []
        for _ in range(2):
            h, _ = self.c.request({"t": "proc_start", "cmd": "sleep", "args": ["30"], "max_running": 2,
                                   "buffer_bytes": 4096})
            pids.append(h["process"]["pid"])
        h, _ = self.c.request({"t": "proc_start", "cmd": "true", "max_running": 2, "buffer_bytes": 4096})
        self.assertEqual((h["t"], h["code"]), ("error", "process_limit"))
        for pid in pids:
            self.assertEqual(self.c.request({"t": "proc_signal", "pid": pid, "signal": 9})[0]["t"], "done")
        h, _ = self.c.request({"t": "proc_info", "pid": 999999})
        self.assertEqual(h["code"], "process_not_found")

    def test_fs_ops_and_watch(self):
        d = os.path.join(self.kernel.work, "fsd")
        h, _ = self.c.request({"t": "fs_mkdir", "path": d + "/a/b", "parents": True})
        self.assertEqual((h["t"], h["entry"]["type"]), ("fs_entry", "dir"))
        self.assertEqual(self.c.request({"t": "fs_mkdir", "path": d + "/a/b"})[0]["code"], "exists")
        self.assertEqual(self.c.request({"t": "fs_remove", "path": d + "/a"})[0]["code"], "not_empty")
        w = self.kernel.connect()
        req = w.new_id()
        w.send({"t": "fs_watch", "id": req, "path": d, "recursive": True})
        self.assertEqual(w.recv_for(req)[0]["t"], "fs_watching")
        with open(os.path.join(d, "a", "b", "f"), "w") as f:
            f.write("x")
        seen = []
        deadline = time.monotonic() + 10
        while ("write", "a/b/f") not in seen and time.monotonic() < deadline:
            h, _ = w.recv_for(req)
            seen.append((h["type"], h["name"]))
        self.assertEqual(seen[:2], [("create", "a/b/f"), ("write", "a/b/f")])
        w.close()
        h, _ = self.c.request({"t": "fs_list", "path": d, "depth": 3, "max_entries": 2})
        self.assertEqual(h["code"], "too_many_entries")

    def test_watch_reports_an_upload_as_create_and_a_move_as_rename(self):
        d = os.path.join(self.kernel.work, "upl")
        os.makedirs(d)
        w = self.kernel.connect()
        req = w.new_id()
        w.send({"t": "fs_watch", "id": req, "path": d})
        self.assertEqual(w.recv_for(req)[0]["t"], "fs_watching")
        # What files.py does for an upload: a temporary file, renamed into place.
        tmp = os.path.join(d, ".pf-upload-0123abcd.tmp")
        with open(tmp, "w") as f:
            f.write("data")
        os.rename(tmp, os.path.join(d, "uploaded.txt"))
        os.rename(os.path.join(d, "uploaded.txt"), os.path.join(d, "moved.txt"))
        seen = []
        deadline = time.monotonic() + 10
        while len(seen) < 3 and time.monotonic() < deadline:
            h, _ = w.recv_for(req)
            seen.append((h["type"], h["name"], h.get("moved")))
        # The two ends of a move say which they are: the name moved away, the name moved in.
        self.assertEqual(seen, [("create", "uploaded.txt", None), ("rename", "uploaded.txt", "from"),
                                ("rename", "moved.txt", "to")])
        w.close()

    def seq_through_lossless_reader(self, lines, late=False, **start):
        """The output of `seq 1 lines` as a lossless (hold) reader gets it (with `late`, reading
        nothing after the first chunk until seq is blocked writing or done); and the last frame's type."""
        h, _ = self.c.request({"t": "proc_start", "cmd": "seq", "args": ["1", str(lines)], "max_running": 8,
                               "hold_ms": 10000, **start})
        self.assertEqual(h["t"], "proc_started")
        c = self.kernel.connect()
        try:
            req = c.new_id()
            pid = h["process"]["pid"]
            c.send({"t": "proc_connect", "id": req, "pid": pid, "hold": True})
            got = []
            while True:
                h, body = c.recv_for(req)
                if h["t"] in ("proc_exit", "error"):
                    return b"".join(got), h["t"]
                if h["t"] == "proc_out":
                    if not got and late:
                        _until_done_writing(pid)
                    got.append(body)
        finally:
            c.close()

    def test_a_slow_lossless_reader_gets_all_of_a_pty_programs_output_even_what_was_pending_at_exit(self):
        # The reader holds the output (lossless), so the program blocks on its terminal while the
        # reader is behind and exits with the kernel's terminal buffers full: all must come.
        out, last = self.seq_through_lossless_reader(60000, late=True, buffer_bytes=64 * 1024,
                                                     pty={"rows": 24, "cols": 80})
        self.assertEqual(last, "proc_exit")
        self.assertEqual(out, "".join(f"{i}\r\n" for i in range(1, 60001)).encode())

    def test_a_lossless_reader_gets_every_byte_through_a_ring_smaller_than_one_read(self):
        out, last = self.seq_through_lossless_reader(100000, buffer_bytes=4096)
        self.assertEqual(last, "proc_exit")
        self.assertEqual(out, "".join(f"{i}\n" for i in range(1, 100001)).encode())


def _until_done_writing(pid):
    """Waits until the process sleeps in a write (its terminal or pipe full) or has exited (with
    what it wrote still in the kernel's buffers), 10 s at most."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/wchan") as f:
                wchan = f.read()
            with open(f"/proc/{pid}/stat") as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            return  # gone: exited and reaped
        # A pipe write sleeps in pipe_write; a terminal's in n_tty_write's wait_woken.
        if "write" in wchan or wchan == "wait_woken" or state in ("Z", "X"):
            return
        time.sleep(0.01)
    raise AssertionError(f"process {pid} neither blocked writing nor exited (wchan {wchan!r}, state {state})")


if __name__ == "__main__":
    unittest.main()
