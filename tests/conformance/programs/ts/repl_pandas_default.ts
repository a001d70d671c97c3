// docs.podflare.ai's quickstart and REPL pages in TypeScript: the default template has pandas.
import assert from "node:assert/strict";
import { Sandbox } from "podflare";

const sbx = await Sandbox.create();
try {
  await sbx.runCode(`
    import pandas as pd
    df = pd.DataFrame({"city": ["Oslo", "Lima", "Pune"], "temp": [3, 19, 31]})
  `);
  const r = await sbx.runCode("print(df['temp'].mean())");
  const hottest = (await sbx.runCode("print(df.sort_values('temp').iloc[-1]['city'])")).stdout;
  process.stdout.write(r.stdout);
  assert.equal(r.exitCode, 0, r.stderr);
  assert.equal(r.stdout, "17.666666666666668\n");
  assert.equal(hottest, "Pune\n");
} finally {
  await sbx.close();
}
