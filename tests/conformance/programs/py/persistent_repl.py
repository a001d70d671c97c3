# The persistent REPL example: named values, imports and open files survive across calls.
from podflare import Sandbox

with Sandbox() as s:
    s.run_code("x = 42; import json")
    s.run_code("""
        cfg = {'temp': 0.7}
        f = open('/tmp/log.txt', 'w')
        f.write('first ')
    """)
    out = s.run_code("print(type(x).__name__, json.dumps(cfg))").stdout
    s.run_code("f.write('second'); f.close()")
    log = s.run_code("print(open('/tmp/log.txt').read())").stdout
    err = s.run_code("""
        def f():
            return 1 / 0
        f()
    """)
    after = s.run_code("print(x)").stdout

print(out, end="")
assert out == 'int {"temp": 0.7}\n', repr(out)
assert log == "first second\n", repr(log)
assert err.exit_code == 1 and "ZeroDivisionError" in err.stderr, err.stderr
assert 'File "<exec>", line 3' in err.stderr, err.stderr  # the user's own line number
assert after == "42\n", repr(after)
