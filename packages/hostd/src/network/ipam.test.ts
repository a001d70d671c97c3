import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { openStore } from "../store/index.js";
import { parseCidr, planFor } from "./addresses.js";
import { Ipam } from "./ipam.js";

test("ipam: lowest free address, stable per key, reused after release, kept across reopen", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pf-ipam-"));
  try {
    const plan = planFor(parseCidr("10.99.0.0/24"));
    let store = openStore(dir);
    let ipam = new Ipam(store.addresses, plan);
    assert.equal(ipam.allocate("a"), "10.99.0.2");
    assert.equal(ipam.allocate("b"), "10.99.0.3");
    assert.equal(ipam.allocate("a"), "10.99.0.2");
    ipam.release("a");
    assert.equal(ipam.allocate("c"), "10.99.0.2");
    store.close();
    store = openStore(dir);
    ipam = new Ipam(store.addresses, plan);
    assert.equal(ipam.addressOf("b"), "10.99.0.3");
    assert.equal(ipam.allocate("d"), "10.99.0.4");
    // A /24 holds .2 ... .251 (the last /30 is the uplink).
    for (let i = 0; i < 250 - 3; i++) ipam.allocate(`k${i}`);
    assert.throws(() => ipam.allocate("one-too-many"), /no free address/);
    store.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
