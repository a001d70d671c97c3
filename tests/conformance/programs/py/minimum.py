# The minimum program, as Podflare's introduction writes it.
from podflare import Sandbox

with Sandbox() as sb:
    out = sb.run_code("print('hello from a sandbox')").stdout
    print(out, end="")

assert out == "hello from a sandbox\n", repr(out)
