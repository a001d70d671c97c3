import assert from "node:assert/strict";
import { test } from "node:test";
import { parseTable, planRepair } from "./drift.js";
import { parsePolicy } from "./policy.js";
import { baseRuleCounts } from "./rulesets.js";

const policy = parsePolicy({ allow_out: ["1.2.3.4"] });
const sb = { key: "sbx_a", link: "pfs123", ip: "10.99.0.2", policy };
const base = baseRuleCounts("table inet podflare {\n  chain input {\n    type filter hook input priority filter; policy drop;\n    iif \"lo\" accept\n\n  }\n}\n");

function table(opts: { bound?: boolean; egress?: string | null; policyRules?: number; inputRules?: number }): string {
  const rule = (chain: string) => ({ rule: { family: "inet", table: "podflare", chain, expr: [] } });
  return JSON.stringify({
    nftables: [
      { metainfo: {} },
      { table: { family: "inet", name: "podflare" } },
      { chain: { name: "input" } },
      ...Array.from({ length: opts.inputRules ?? 1 }, () => rule("input")),
      { set: { name: "bound", elem: opts.bound === false ? [] : [{ concat: ["pfs123", "10.99.0.2"] }] } },
      { map: { name: "egress", elem: opts.egress === null ? [] : [["pfs123", { jump: { target: opts.egress ?? "sb_sbx_a" } }]] } },
      { chain: { name: "sb_sbx_a" } },
      ...Array.from({ length: opts.policyRules ?? 4 }, () => rule("sb_sbx_a")),
    ],
  });
}

test("drift: nothing to do when the table matches", () => {
  assert.deepEqual(base, new Map([["input", 1]]));
  const r = planRepair(parseTable(table({})), base, [sb]);
  assert.deepEqual(r, { reload: false, script: "", repaired: [] });
});

test("drift: a missing bound element, map entry or flushed chain is put back", () => {
  let r = planRepair(parseTable(table({ bound: false })), base, [sb]);
  assert.equal(r.script, 'add element inet podflare bound { "pfs123" . 10.99.0.2 }\n');
  r = planRepair(parseTable(table({ egress: null })), base, [sb]);
  assert.equal(r.script, 'add element inet podflare egress { "pfs123" : jump sb_sbx_a }\n');
  r = planRepair(parseTable(table({ egress: "sb_other" })), base, [sb]);
  assert.match(r.script, /delete element inet podflare egress \{ "pfs123" \}\nadd element/);
  r = planRepair(parseTable(table({ policyRules: 0 })), base, [sb]);
  assert.match(r.script, /flush chain inet podflare sb_sbx_a/);
  assert.deepEqual(r.repaired, ["sbx_a"]);
});

test("drift: a missing table or changed base chain means a full reload", () => {
  assert.equal(parseTable(JSON.stringify({ nftables: [{ metainfo: {} }] })), null);
  for (const state of [null, parseTable(table({ inputRules: 0 }))]) {
    const r = planRepair(state, base, [sb]);
    assert.equal(r.reload, true);
    assert.match(r.script, /add element inet podflare egress/);
  }
});
