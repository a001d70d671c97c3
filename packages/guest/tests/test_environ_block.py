import os
import subprocess
import sys
import unittest

import harness  # noqa: F401  (puts the package on sys.path)

HERE = os.path.dirname(os.path.abspath(__file__))

# Run in a child with a known environment: the block is the process's own, set at exec.
CHILD = """
import harness
from podflare_guest import environ_block
print(environ_block.set_in_block('HOSTNAME', 'sbx_new1'),
      environ_block.set_in_block('HOSTNAME', 'sbx_n'),
      environ_block.set_in_block('HOSTNAME', 'sbx_much_longer_than_before'),
      environ_block.set_in_block('MISSING', 'x'))
entries = open('/proc/self/environ', 'rb').read().split(b'\\0')
print([e.decode() for e in entries if e.startswith((b'HOSTNAME=', b'A='))])
"""


class EnvironBlockTest(unittest.TestCase):
    def test_rewrites_in_place_when_it_fits(self):
        env = {"A": "1", "HOSTNAME": "sbx_old1", "PATH": os.environ.get("PATH", "")}
        out = subprocess.run([sys.executable, "-c", CHILD], cwd=HERE, capture_output=True, text=True,
                             check=True, env=env).stdout
        self.assertEqual(out, "True True False False\n['A=1', 'HOSTNAME=sbx_n']\n")


if __name__ == "__main__":
    unittest.main()
