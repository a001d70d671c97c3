// Files in and out. PODFLARE_TEST_CSV names a local CSV made by the test.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { Sandbox } from "podflare";

const sb = await Sandbox.create();
try {
  await sb.upload(readFileSync(process.env["PODFLARE_TEST_CSV"]!), "/root/data.csv");
  const summary = (
    await sb.runCode(`
      import csv
      rows = list(csv.DictReader(open('/root/data.csv')))
      total = sum(int(r['amount']) for r in rows)
      print(len(rows), total)
      with open('/root/report.txt', 'w') as f:
          f.write(f'{len(rows)} rows, total {total}\\n')
    `)
  ).stdout;
  const report = await sb.download("/root/report.txt");
  await sb.upload(new Uint8Array([0, 1, 255]), "/root/blob.bin");
  const blob = await sb.download("/root/blob.bin");

  process.stdout.write(summary);
  assert.equal(summary, "3 60\n");
  assert.equal(report.toString("utf8"), "3 rows, total 60\n");
  assert.deepEqual([...blob], [0, 1, 255]);
} finally {
  await sb.close();
}
