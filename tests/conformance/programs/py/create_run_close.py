# Create, run, close: the Python SDK's quickstart (state persists across calls).
from podflare import Sandbox

sbx = Sandbox()

sbx.run_code("x = 42")
out = sbx.run_code("print(x * 2)").stdout
print(out, end="")  # "84"

r = sbx.run_code("print(sum(range(10)))")
assert r.exit_code == 0
assert r.stdout.strip() == "45"

sbx.close()

assert out == "84\n", repr(out)
assert not sbx.is_open
