# docs.podflare.ai's quickstart and REPL pages: a plain Sandbox() (the default template),
# pandas imported once, the DataFrame used again in later calls.
from podflare import Sandbox

with Sandbox() as sbx:
    sbx.run_code("""
        import pandas as pd
        df = pd.DataFrame({"city": ["Oslo", "Lima", "Pune"], "temp": [3, 19, 31]})
    """)
    r = sbx.run_code("print(df['temp'].mean())")
    hottest = sbx.run_code("print(df.sort_values('temp').iloc[-1]['city'])").stdout

print(r.stdout, end="")
assert r.exit_code == 0, r.stderr
assert r.stdout == "17.666666666666668\n", repr(r.stdout)
assert hottest == "Pune\n", repr(hottest)
