import os
import tempfile

from harness import KernelTest


class ContextsTest(KernelTest):
    def ctx(self, t, ctx_id=None, **extra):
        header = {"t": t, **({"ctx": ctx_id} if ctx_id is not None else {}), **extra}
        return self.c.request(header)[0]

    def test_contexts_have_their_own_namespaces_and_the_default_is_main(self):
        self.assertEqual(self.ctx("ctx_create", "c1")["context"],
                         {"id": "c1", "language": "python", "cwd": None})
        self.run_ok("x = 'default'")
        self.run_ok("x = 'one'", ctx="c1")
        self.assertEqual(self.run_ok("print(x, __name__)", ctx="c1"), b"one __main__\n")
        self.assertEqual(self.run_ok("print(x)"), b"default\n")
        self.assertEqual(self.run_ok("print(x)", ctx="default"), b"default\n")
        self.assertEqual(self.run_ok("print('x' in globals(), callable(display))", ctx="c1"), b"True True\n")
        ids = [c["id"] for c in self.ctx("ctx_list")["contexts"]]
        self.assertEqual(ids[:1], ["default"])
        self.assertIn("c1", ids)
        self.assertEqual(self.ctx("ctx_delete", "c1")["t"], "done")

    def test_restart_empties_one_context_only(self):
        self.ctx("ctx_create", "r1")
        self.run_ok("kept = 1")
        self.run_ok("gone = 2", ctx="r1")
        self.assertEqual(self.ctx("ctx_restart", "r1")["t"], "context")
        rc, _, err = self.c.exec("gone", ctx="r1")
        self.assertEqual(rc, 1)
        self.assertIn(b"NameError", err)
        self.assertEqual(self.run_ok("print(kept)"), b"1\n")
        self.ctx("ctx_delete", "r1")

    def test_cwd_is_where_the_contexts_cells_start(self):
        d = tempfile.mkdtemp()
        self.ctx("ctx_create", "w1", cwd=d)
        self.assertEqual(self.run_ok("import os; print(os.getcwd())", ctx="w1"), f"{d}\n".encode())
        self.assertEqual(self.run_ok("pwd", lang="bash", ctx="w1"), f"{d}\n".encode())
        self.assertNotEqual(self.run_ok("import os; print(os.getcwd())"), f"{d}\n".encode())
        err = self.ctx("ctx_create", "w2", cwd=os.path.join(d, "missing"))
        self.assertEqual((err["t"], err["code"]), ("error", "not_found"))
        self.ctx("ctx_delete", "w1")

    def test_unknown_and_default_contexts_are_refused_clearly(self):
        rc, _, err = self.c.exec("1", ctx="nope")
        self.assertEqual(rc, 1)
        self.assertIn(b"context nope not found", err)
        for t in ("ctx_restart", "ctx_delete"):
            f = self.ctx(t, "nope")
            self.assertEqual((f["t"], f["code"]), ("error", "not_found"), t)
        f = self.ctx("ctx_delete", "default")
        self.assertEqual((f["t"], f["code"]), ("error", "busy"))

    def test_at_most_32_contexts(self):
        have = len(self.ctx("ctx_list")["contexts"])
        made = [f"cap{i}" for i in range(32 - have)]
        for c in made:
            self.assertEqual(self.ctx("ctx_create", c)["t"], "context")
        f = self.ctx("ctx_create", "one-too-many")
        self.assertEqual((f["t"], f["code"]), ("error", "busy"))
        self.assertIn("most allowed", f["message"])
        for c in made:
            self.ctx("ctx_delete", c)
