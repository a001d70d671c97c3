// The data-science example: pandas in the python-datasci template, a DataFrame that lives on
// between calls. PODFLARE_TEST_CSV names a local CSV made by the test (the docs fetch one).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { Sandbox } from "podflare";

const sb = await Sandbox.create({ template: "python-datasci" });
try {
  await sb.upload(readFileSync(process.env["PODFLARE_TEST_CSV"]!), "/root/data.csv");
  await sb.runCode(`
    import pandas as pd
    df = pd.read_csv('/root/data.csv')
  `);
  const result = await sb.runCode(`
    summary = df.describe()
    print(int(df['amount'].sum()), len(df))
  `);
  const top = (await sb.runCode("print(df.sort_values('amount', ascending=False).iloc[0]['name'])")).stdout;

  process.stdout.write(result.stdout);
  assert.equal(result.exitCode, 0, result.stderr);
  assert.equal(result.stdout, "60 3\n");
  assert.equal(top, "c\n");
} finally {
  await sb.close();
}
