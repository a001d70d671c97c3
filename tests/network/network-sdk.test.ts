// The network surface of both SDKs against the real hostd: a policy on create, info().network,
// and setNetwork / set_network changing it at runtime.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Sandbox } from "podflare";
import { hostdUrl } from "../support/api.js";
import { runPythonSdk } from "../support/python-sdk.js";

test("ts: Sandbox.create({network}) → info().network → setNetwork", async () => {
  const sb = await Sandbox.create({ host: hostdUrl(), network: { allowOut: ["pkgs.test", "192.0.2.0/24"] } });
  try {
    const info = await sb.info();
    assert.equal(info.network?.egress, true);
    assert.match(info.network?.address ?? "", /^\d+\.\d+\.\d+\.\d+$/);
    assert.deepEqual(info.network?.allowOut, ["192.0.2.0/24", "pkgs.test"]);
    const after = await sb.setNetwork({ allowOut: null, denyOut: ["198.51.100.3"] });
    assert.deepEqual([after?.allowOut, after?.denyOut], [null, ["198.51.100.3/32"]]);
    const off = await sb.setNetwork({ egress: false });
    assert.deepEqual([off?.egress, off?.address, sb.applied?.egress], [false, null, false]);
    assert.equal((await sb.runCode("ls /sys/class/net", "bash")).stdout, "lo\n");
  } finally {
    await sb.close();
  }
});

test("py: Sandbox(network=...) → info()['network'] → set_network", () => {
  const script = [
    "from podflare import Sandbox",
    "sb = Sandbox(network={'allow_out': ['pkgs.test']})",
    "net = sb.info()['network']",
    "print(net['egress'], net['allow_out'], net['address'] is not None)",
    "net = sb.set_network(deny_out=['198.51.100.3'], allow_out=None)",
    "print(net['allow_out'], net['deny_out'])",
    "net = sb.set_network(egress=False)",
    "print(net['egress'], net['address'], sb.applied['egress'])",
    "sb.close()",
  ].join("\n");
  const r = runPythonSdk(script, hostdUrl());
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, "True ['pkgs.test'] True\nNone ['198.51.100.3/32']\nFalse None False\n");
});
