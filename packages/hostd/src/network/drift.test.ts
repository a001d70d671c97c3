import assert from "node:assert/strict";
import { test } from "node:test";
import { parseTable, planRepair, planStaleRemoval } from "./drift.js";
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

test("drift: elements, map entries, chains and sets of no attached sandbox are removed", () => {
  const stale = JSON.stringify({
    nftables: [
      { table: { family: "inet", name: "podflare" } },
      { set: { name: "bound", elem: [{ concat: ["pfs123", "10.99.0.2"] }, { concat: ["pfs123", "10.99.0.9"] }, { concat: ["pfsdead", "10.99.0.3"] }, { concat: ["pfsgoing", "10.99.0.4"] }] } },
      { map: { name: "egress", elem: [["pfs123", { jump: { target: "sb_sbx_a" } }], ["pfsdead", { jump: { target: "sb_sbx_gone" } }]] } },
      { chain: { name: "sb_sbx_a" } },
      { chain: { name: "sb_sbx_gone" } },
      { set: { name: "sa_sbx_a" } },
      { set: { name: "sa_sbx_gone" } },
      { set: { name: "sd_sbx_gone" } },
      { set: { name: "host_nets" } },
    ],
  });
  const lines = planStaleRemoval(parseTable(stale)!, [sb], new Set());
  assert.deepEqual(lines, [
    'delete element inet podflare egress { "pfsdead" }',
    'delete element inet podflare bound { "pfs123" . 10.99.0.9 }',
    'delete element inet podflare bound { "pfsdead" . 10.99.0.3 }',
    'delete element inet podflare bound { "pfsgoing" . 10.99.0.4 }',
    "delete chain inet podflare sb_sbx_gone",
    "delete set inet podflare sa_sbx_gone",
    "delete set inet podflare sd_sbx_gone",
  ]);
  // A sandbox whose removal is already queued is left to that removal.
  const queued = planStaleRemoval(parseTable(stale)!, [sb], new Set(["sbx_gone"]));
  assert.ok(!queued.some((l) => l.includes("sbx_gone")), queued.join("\n"));
});
