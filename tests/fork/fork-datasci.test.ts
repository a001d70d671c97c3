// fork on python-datasci with numpy and pandas imported (C extensions, BLAS threads) and an
// open file; numpy's global generator is reseeded in every child.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { bash, closeSandbox, exec, SandboxPool } from "../support/api.js";
import { fork } from "./support.js";

const pool = new SandboxPool();
after(() => pool.closeAll());

test("numpy and pandas state survives fork; numpy random differs between children", async () => {
  const id = await pool.create({ template: "python-datasci" });
  const setup = await exec(id, `import numpy as np, pandas as pd
np.random.seed(1)
df = pd.DataFrame({"a": np.arange(5), "b": list("vwxyz")})
arr = np.ones((1000, 1000))
out = open('/root/out.csv', 'w')
df.to_csv(out, index=False)
out.flush()
print(df.shape, arr.sum())`, { timeout_ms: 120_000 });
  assert.equal(setup.stdout, "(5, 2) 1000000.0\n", setup.stderr);
  const kids = (await fork(id, 2)).children;
  const draws = [];
  for (const c of kids) {
    const r = await exec(c, "print(df['a'].sum(), df.iloc[2]['b'], (arr @ arr)[0, 0])\nprint(np.random.random())\nout.write('child\\n'); out.flush()");
    assert.equal(r.exitCode, 0, r.stderr);
    const [first, draw] = r.stdout.split("\n");
    assert.equal(first, "10 x 1000.0");
    draws.push(draw);
  }
  assert.notEqual(draws[0], draws[1], "numpy's global generator was not reseeded");
  assert.equal((await bash(id, "grep -c child /root/out.csv || true")).stdout, "0\n");
  assert.equal((await bash(kids[0]!, "grep -c child /root/out.csv")).stdout, "1\n");
  for (const c of kids) await closeSandbox(c);
});
