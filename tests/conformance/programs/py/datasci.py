# The data-science example: pandas in the python-datasci template, a DataFrame that lives on
# between calls. PODFLARE_TEST_CSV names a local CSV made by the test (the docs fetch one).
import os

from podflare import Sandbox

with Sandbox(template="python-datasci") as sb:
    sb.upload(open(os.environ["PODFLARE_TEST_CSV"], "rb").read(), "/root/data.csv")
    sb.run_code("""
        import pandas as pd
        df = pd.read_csv('/root/data.csv')
    """)
    result = sb.run_code("""
        summary = df.describe()
        print(int(df['amount'].sum()), len(df))
    """)
    top = sb.run_code("print(df.sort_values('amount', ascending=False).iloc[0]['name'])").stdout

print(result.stdout, end="")
assert result.exit_code == 0, result.stderr
assert result.stdout == "60 3\n", repr(result.stdout)
assert top == "c\n", repr(top)
