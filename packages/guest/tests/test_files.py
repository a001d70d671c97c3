import os
import random
import resource
import stat
import time

from harness import KernelTest


class FilesTest(KernelTest):
    def path(self, *parts):
        return os.path.join(self.kernel.work, *parts)

    def test_write_many_chunks_and_read_back(self):
        data = random.Random(3).randbytes(10 * 1024 * 1024 + 123)
        self.assertEqual(self.c.write_file("big/nested/data.bin", data, chunk=300_000)["t"], "done")
        with open(self.path("big", "nested", "data.bin"), "rb") as f:
            self.assertTrue(f.read() == data)
        h, back = self.c.read_file("big/nested/data.bin")
        self.assertEqual((h["t"], h["kind"], h["size"], h["mode"]), ("file", "file", len(data), 0o644))
        self.assertTrue(back == data)

    def test_mode_and_absolute_path(self):
        target = self.path("script.sh")
        self.assertEqual(self.c.write_file(target, b"#!/bin/sh\n", mode=0o755)["t"], "done")
        self.assertEqual(stat.S_IMODE(os.stat(target).st_mode), 0o755)
        self.assertEqual(self.c.read_file(target)[0]["mode"], 0o755)

    def test_empty_file(self):
        self.assertEqual(self.c.write_file("empty.txt", b"")["t"], "done")
        self.assertEqual(self.c.read_file("empty.txt")[1], b"")

    def test_overwrite_replaces_content(self):
        self.c.write_file("over.txt", b"a much longer first version")
        self.c.write_file("over.txt", b"short")
        self.assertEqual(self.c.read_file("over.txt")[1], b"short")

    def test_interrupted_upload_leaves_the_old_file_and_no_temp(self):
        self.c.write_file("atomic.txt", b"old content")
        c2 = self.kernel.connect()
        c2.send({"t": "write_open", "id": 1, "path": "atomic.txt"})
        c2.send({"t": "write_chunk", "id": 1}, b"new partial")
        c2.send({"t": "ping", "id": 2})
        c2.recv_for(2)  # the chunk has been written to the temp file by now
        with open(self.path("atomic.txt"), "rb") as f:
            self.assertEqual(f.read(), b"old content")
        c2.close()  # the host went away mid-upload
        deadline = time.monotonic() + 5
        while any(n.startswith(".pf-upload") for n in os.listdir(self.kernel.work)):
            self.assertLess(time.monotonic(), deadline, "temp file left behind")
            time.sleep(0.02)
        with open(self.path("atomic.txt"), "rb") as f:
            self.assertEqual(f.read(), b"old content")

    def test_parent_is_a_file(self):
        self.c.write_file("plain.txt", b"x")
        h = self.c.write_file("plain.txt/child.txt", b"y")
        self.assertEqual((h["t"], h["code"]), ("error", "not_a_directory"))
        self.assertIn("plain.txt", h["message"])

    def test_write_onto_a_directory(self):
        os.makedirs(self.path("adir"), exist_ok=True)
        h = self.c.write_file("adir", b"data")
        self.assertEqual((h["t"], h["code"]), ("error", "is_a_directory"))
        self.assertTrue(os.path.isdir(self.path("adir")))

    def test_write_through_a_symlink_keeps_the_link(self):
        with open(self.path("real.txt"), "wb") as f:
            f.write(b"old")
        os.symlink("real.txt", self.path("link.txt"))
        self.assertEqual(self.c.write_file("link.txt", b"new")["t"], "done")
        self.assertTrue(os.path.islink(self.path("link.txt")))
        with open(self.path("real.txt"), "rb") as f:
            self.assertEqual(f.read(), b"new")

    def test_directory_listing(self):
        d = self.path("listing")
        os.makedirs(os.path.join(d, "sub"))
        with open(os.path.join(d, "b.txt"), "wb") as f:
            f.write(b"12345")
        os.chmod(os.path.join(d, "b.txt"), 0o600)
        os.symlink("sub", os.path.join(d, "a-link"))
        os.mkfifo(os.path.join(d, "c-fifo"))
        h, _ = self.c.read_file("listing")
        self.assertEqual(h["t"], "dir")
        entries = h["entries"]
        self.assertEqual([(e["name"], e["type"]) for e in entries],
                         [("a-link", "symlink"), ("b.txt", "file"), ("c-fifo", "other"), ("sub", "dir")])
        b = entries[1]
        self.assertEqual((b["size"], b["mode"]), (5, 0o600))
        self.assertAlmostEqual(b["mtime_ms"] / 1000, os.stat(os.path.join(d, "b.txt")).st_mtime, delta=0.01)

    def test_read_errors(self):
        h, _ = self.c.read_file("does/not/exist")
        self.assertEqual((h["t"], h["code"]), ("error", "not_found"))
        self.assertIn("does/not/exist", h["message"])
        os.mkfifo(self.path("a-fifo"))
        self.assertEqual(self.c.read_file("a-fifo")[0]["code"], "not_regular")
        self.assertEqual(self.c.read_file("/dev/zero")[0]["code"], "not_regular")

    def test_read_of_a_file_that_reports_no_size(self):
        h, data = self.c.read_file("/proc/self/status")
        self.assertEqual(h["size"], len(data))
        self.assertIn(b"Name:", data)

    def test_read_of_an_unsized_file_past_the_bound(self):
        # /proc/self/pagemap reports size 0 and holds 8 bytes per page of the address space.
        h, _ = self.c.read_file("/proc/self/pagemap")
        self.assertEqual((h["t"], h["code"]), ("error", "too_large"))
        self.assertIn("regular file", h["message"])

    def test_invalid_paths(self):
        for bad in ("", "a\0b"):
            h, _ = self.c.read_file(bad)
            self.assertEqual((h["t"], h["code"]), ("error", "invalid_path"), bad)
        self.assertEqual(self.c.write_file("x\0y", b"")["code"], "invalid_path")

    def test_paths_are_normalised(self):
        self.c.write_file("norm/./a/../b.txt", b"n")
        self.assertTrue(os.path.exists(self.path("norm", "b.txt")))

    def test_remove(self):
        os.makedirs(self.path("rm", "tree", "deep"))
        with open(self.path("rm", "tree", "deep", "f"), "wb"):
            pass
        with open(self.path("rm", "file"), "wb"):
            pass
        os.makedirs(self.path("rm-target"))
        os.symlink(self.path("rm-target"), self.path("rm", "link"))
        for name in ("rm/tree", "rm/file", "rm/link"):
            self.assertEqual(self.c.request({"t": "remove", "path": name})[0]["t"], "done", name)
        self.assertEqual(os.listdir(self.path("rm")), [])
        self.assertTrue(os.path.isdir(self.path("rm-target")))  # the link went, not its target
        h, _ = self.c.request({"t": "remove", "path": "rm/file"})
        self.assertEqual((h["t"], h["code"]), ("error", "not_found"))
        self.assertEqual(self.c.request({"t": "remove", "path": "/"})[0]["code"], "invalid_path")


def _limit_file_size():
    resource.setrlimit(resource.RLIMIT_FSIZE, (1024 * 1024, 1024 * 1024))


class FailedUploadTest(KernelTest):
    # Files over 1 MiB fail with EFBIG in this kernel: a write error we can cause as root.
    kernel_preexec = staticmethod(_limit_file_size)

    def test_failed_upload_answers_once_keeps_the_old_file_and_no_temp(self):
        self.assertEqual(self.c.write_file("kept.txt", b"old")["t"], "done")
        req = self.c.new_id()
        self.c.send({"t": "write_open", "id": req, "path": "kept.txt"})
        for _ in range(3):
            self.c.send({"t": "write_chunk", "id": req}, b"x" * 600_000)
        self.c.send({"t": "write_close", "id": req})
        ping = self.c.new_id()
        self.c.send({"t": "ping", "id": ping})
        answers = []
        while True:
            h, _ = self.c.recv()
            if h["id"] == ping:
                break
            answers.append(h)
        self.assertEqual([(a["t"], a["code"]) for a in answers], [("error", "io_error")])
        self.assertIn("kept.txt", answers[0]["message"])
        with open(os.path.join(self.kernel.work, "kept.txt"), "rb") as f:
            self.assertEqual(f.read(), b"old")
        self.assertEqual([n for n in os.listdir(self.kernel.work) if n.startswith(".pf-")], [])
