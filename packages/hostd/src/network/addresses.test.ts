import assert from "node:assert/strict";
import { test } from "node:test";
import { contains, formatCidr, intToIp, ipToInt, overlaps, parseCidr, planFor } from "./addresses.js";

test("addresses: round trip and masking", () => {
  assert.equal(intToIp(ipToInt("10.77.3.4")), "10.77.3.4");
  assert.equal(ipToInt("255.255.255.255"), 2 ** 32 - 1);
  assert.equal(formatCidr(parseCidr("10.77.1.2/16")), "10.77.0.0/16");
  assert.equal(formatCidr(parseCidr("192.0.2.7")), "192.0.2.7/32");
  assert.throws(() => parseCidr("10.0.0.0/33"), /prefix/);
  assert.throws(() => ipToInt("10.0.0.256"), /not an IPv4/);
  assert.throws(() => ipToInt("10.0.0"), /not an IPv4/);
});

test("addresses: containment and overlap", () => {
  const c = parseCidr("10.77.0.0/16");
  assert.ok(contains(c, ipToInt("10.77.255.1")));
  assert.ok(!contains(c, ipToInt("10.78.0.1")));
  assert.ok(overlaps(c, parseCidr("10.0.0.0/8")));
  assert.ok(overlaps(c, parseCidr("10.77.5.0/24")));
  assert.ok(!overlaps(c, parseCidr("10.78.0.0/16")));
});

test("addresses: a plan keeps the gateway, the sandboxes and the uplink apart", () => {
  const p = planFor(parseCidr("10.77.0.0/16"));
  assert.equal(p.gateway, "10.77.0.1");
  assert.equal(intToIp(p.firstSandbox), "10.77.0.2");
  assert.equal(p.uplinkHost, "10.77.255.253");
  assert.equal(p.uplinkRouter, "10.77.255.254");
  assert.equal(intToIp(p.lastSandbox), "10.77.255.251");
  assert.throws(() => planFor(parseCidr("10.77.0.0/25")), /too small/);
});
