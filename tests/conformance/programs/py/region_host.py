# region and host keywords. The test's hostd serves region "us-west" (PODFLARE_REGION);
# host is the server's base URL (here the test's hostd, as PODFLARE_HOSTD_URL names it).
import os

from podflare import RegionUnknownError, Sandbox

host = os.environ["PODFLARE_HOSTD_URL"]

with Sandbox(region="us-west") as sb:
    a = sb.run_code("print('us-west')").stdout

with Sandbox(host=host) as sb:
    b = sb.run_code("print('host')").stdout

sb = Sandbox(host=host, region="us-west", persistent=True)
sb.run_code("x = 'resumed'")
space_id = sb.freeze()
later = Sandbox.resume(space_id, region="us-west")
try:
    c = later.run_code("print(x)").stdout
finally:
    later.close()

try:
    Sandbox(region="eu-nowhere")
    raise AssertionError("a region the server does not serve was accepted")
except RegionUnknownError as err:
    message = err.message

print(a, b, c, end="")
assert (a, b, c) == ("us-west\n", "host\n", "resumed\n"), (a, b, c)
assert '"eu-nowhere"' in message and '"us-west"' in message, message
