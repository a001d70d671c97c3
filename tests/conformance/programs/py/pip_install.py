# pip-shaped install, with the package index replaced by a local wheel (no network):
# PODFLARE_TEST_WHEEL names a wheel built by the test on this machine.
import os

from podflare import Sandbox

wheel = os.environ["PODFLARE_TEST_WHEEL"]
name = os.path.basename(wheel)

with Sandbox() as sb:
    sb.upload(open(wheel, "rb").read(), f"/tmp/{name}")
    r = sb.run_code(f"pip install --no-index /tmp/{name}", language="bash")
    assert r.exit_code == 0, r.stderr
    # Now use it:
    out = sb.run_code("""
        import podflare_hello
        print(podflare_hello.greet("sandbox"))
    """).stdout

print(out, end="")
assert out == "hello, sandbox\n", repr(out)
