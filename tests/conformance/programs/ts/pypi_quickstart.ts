// The quickstart of Podflare's README (pypi.org/project/podflare), in the TypeScript SDK as
// docs.podflare.ai/sdks/typescript writes it: upload takes the path first, as in the README.
// Added here: the asserts, and closing the four children the README leaves open.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { Sandbox } from "podflare";

const local = readFileSync(process.env["PODFLARE_TEST_CSV"]!);
const sbx = await Sandbox.create({ template: "python-datasci" });
try {
  await sbx.runCode("x = 42");
  console.log((await sbx.runCode("print(x * 2)")).stdout); // "84"

  const children = await sbx.fork(5);
  await children[0]!.runCode("x = 100");
  await sbx.mergeInto(children[0]!);

  await sbx.upload("data.csv", local);
  await sbx.runCode("import pandas as pd; df = pd.read_csv('data.csv')");

  const total = (await sbx.runCode("print(int(df['amount'].sum()), x)")).stdout;
  assert.equal(total, "60 100\n");
  assert.deepEqual(Buffer.from(await sbx.download("data.csv")), local);
  for (const c of children.slice(1)) await c.close();
} finally {
  await sbx.close();
}
