import assert from "node:assert/strict";
import { test } from "node:test";
import { PodflareError } from "@podflare/protocol";
import { domainMatches, OPEN_POLICY, parsePolicy, policyToWire, renderPolicy } from "./policy.js";

test("policy: absent means open; entries are sorted into CIDRs and domains", () => {
  assert.deepEqual(parsePolicy(undefined), OPEN_POLICY);
  const p = parsePolicy({ allow_out: ["PyPI.org.", "10.1.2.3", "192.0.2.0/24"], deny_out: ["10.1.2.3/32"] });
  assert.deepEqual(p, { allowCidrs: ["10.1.2.3/32", "192.0.2.0/24"], allowDomains: ["pypi.org"], denyCidrs: ["10.1.2.3/32"], denyDomains: [] });
  assert.deepEqual(policyToWire(p), { allow_out: ["10.1.2.3/32", "192.0.2.0/24", "pypi.org"], deny_out: ["10.1.2.3/32"] });
  assert.deepEqual(parsePolicy({ allow_out: [] }).allowCidrs, []);
});

test("policy: bad entries are refused with the entry named", () => {
  const cases: [unknown, RegExp][] = [
    [[], /must be an object/],
    [{ allow: [] }, /unknown field "allow"/],
    [{ allow_out: "pypi.org" }, /must be a list/],
    [{ allow_out: ["::1"] }, /IPv4 only/],
    [{ deny_out: ["10.0.0.0/40"] }, /prefix/],
    [{ allow_out: ["bad_name!"] }, /neither an IPv4/],
    [{ allow_out: [""] }, /non-empty/],
    [{ allow_out: Array.from({ length: 300 }, (_, i) => `h${i}.test`) }, /at most 256/],
  ];
  for (const [raw, re] of cases) {
    assert.throws(() => parsePolicy(raw), (e: unknown) => e instanceof PodflareError && e.code === "bad_request" && re.test(e.message), JSON.stringify(raw));
  }
});

test("policy: a domain covers its subdomains only", () => {
  assert.ok(domainMatches("pypi.org", "pypi.org"));
  assert.ok(domainMatches("files.pypi.org.", "pypi.org"));
  assert.ok(!domainMatches("notpypi.org", "pypi.org"));
});

test("policy: rendering denies first, then allows, then refuses the rest", () => {
  const text = renderPolicy("inet podflare", "sbx_1", parsePolicy({ allow_out: ["192.0.2.1"], deny_out: ["192.0.2.0/24"] }));
  const rules = text.split("\n").filter((l) => l.startsWith("add rule"));
  assert.match(rules[0]!, /ip daddr \{ 192\.0\.2\.0\/24 \} reject/);
  assert.match(rules[1]!, /@sd_sbx_1 reject/);
  assert.match(rules[2]!, /ip daddr \{ 192\.0\.2\.1\/32 \} accept/);
  assert.match(rules[3]!, /@sa_sbx_1 accept/);
  assert.match(rules[4]!, /sb_sbx_1 reject/);
  const open = renderPolicy("inet podflare", "sbx_1", OPEN_POLICY);
  assert.match(open, /add rule inet podflare sb_sbx_1 accept\n$/);
});
