// fork(5) + mergeInto: set up state once, explore five plans in parallel, keep the best.
import assert from "node:assert/strict";
import { Sandbox } from "podflare";

const parent = await Sandbox.create();
try {
  await parent.runCode(`
    import json
    data = [3, 1, 4, 1, 5, 9, 2, 6]
  `);

  // 5 different hypotheses
  const plans = [
    "result = sum(data)",
    "result = max(data)",
    "result = len(data)",
    "result = sorted(data)[-2]",
    "result = data[0] * data[-1]",
  ];

  const children = await parent.fork(plans.length);
  let results: number[];
  try {
    results = await Promise.all(
      children.map(async (c, i) => {
        await c.runCode(plans[i]!);
        return Number((await c.runCode("print(result)")).stdout);
      }),
    );
    const best = results.indexOf(Math.max(...results));
    await children[best]!.runCode("open('/root/winner.txt', 'w').write(str(result))");
    await parent.mergeInto(children[best]!);
  } finally {
    await Promise.all(children.map((c) => c.close()));
  }

  const merged = (await parent.runCode("print(result, open('/root/winner.txt').read(), json.dumps(data[:2]))")).stdout;
  process.stdout.write(`${JSON.stringify(results)} ${merged}`);
  assert.deepEqual(results, [31, 9, 8, 6, 18]);
  assert.equal(merged, "31 31 [3, 1]\n");
} finally {
  await parent.close();
}
