# The quickstart of Podflare's PyPI README (pypi.org/project/podflare, every version), as
# written: the path goes first in upload, and the CSV is a local file. Added here: the chdir to
# the test's CSV, the asserts, and closing the four children the README leaves open.
import os

from podflare import Sandbox

os.chdir(os.path.dirname(os.environ["PODFLARE_TEST_CSV"]))

# Create a sandbox (persistent Python REPL, preloaded libs on python-datasci)
sbx = Sandbox(template="python-datasci")

# Execute code — state persists across calls
sbx.run_code("x = 42")
print(sbx.run_code("print(x * 2)").stdout)  # "84"

# Fork — spawn N copies of the running sandbox
children = sbx.fork(n=5)
children[0].run_code("x = 100")   # isolated per branch

# Merge a branch back into the parent
sbx.merge_into(children[0])

# Upload + download files
sbx.upload("data.csv", open("local.csv", "rb").read())
sbx.run_code("import pandas as pd; df = pd.read_csv('data.csv')")

total = sbx.run_code("print(int(df['amount'].sum()), x)").stdout
assert total == "60 100\n", repr(total)
assert sbx.download("data.csv") == open("local.csv", "rb").read()
for c in children[1:]:
    c.close()

# Destroy
sbx.close()
