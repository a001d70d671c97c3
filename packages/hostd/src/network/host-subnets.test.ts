import assert from "node:assert/strict";
import { test } from "node:test";
import { parseCidr } from "./addresses.js";
import { connectedSubnets } from "./host-subnets.js";

test("connected subnets: the host's networks, without loopback or the sandbox block", () => {
  const json = JSON.stringify([
    { ifname: "lo", addr_info: [{ local: "127.0.0.1", prefixlen: 8 }] },
    { ifname: "eth0", addr_info: [{ local: "172.31.5.9", prefixlen: 20 }, { local: "203.0.113.7", prefixlen: 32 }] },
    { ifname: "pfumain", addr_info: [{ local: "10.77.255.253", prefixlen: 30 }] },
    { ifname: "dummy0" },
  ]);
  assert.deepEqual(connectedSubnets(json, parseCidr("10.77.0.0/16")), ["172.31.0.0/20", "203.0.113.7/32"]);
});
