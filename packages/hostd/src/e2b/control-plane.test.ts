import assert from "node:assert/strict";
import { test } from "node:test";
import { createBody, parseListQuery } from "./control-plane.js";
import { DEFAULT_TEMPLATE_MAP, Templates, parseTemplateMap } from "./shapes.js";

const templates = new Templates({ ...DEFAULT_TEMPLATE_MAP });

test("E2B's create body maps onto ours: template, metadata, envs, timeout, internet, network", () => {
  assert.deepEqual(
    createBody({ templateID: "base", metadata: { a: "1" }, envVars: { X: "y" }, timeout: 300, allow_internet_access: false }, templates),
    { template: "default", metadata: { a: "1" }, env: { X: "y" }, idle_timeout_s: 300, lifetime_s: 300, max_lifetime_s: 365 * 86400, egress: false },
  );
  assert.equal(createBody({ templateID: "code-interpreter-v1" }, templates).template, "python-datasci");
  assert.equal(createBody({ templateID: "my-own" }, templates).template, "my-own");
  // A bad timeout is named as E2B's field, not as the idle_timeout_s or lifetime_s it becomes.
  for (const timeout of [-1, 0, 1.5, "x"]) assert.throws(() => createBody({ timeout }, templates), /^Error: timeout must be a whole number of seconds, at least 1, got /);
});

test("E2B's network policy, where allowed entries win, in ours, where denied ones do", () => {
  const net = (network: unknown, extra: Record<string, unknown> = {}) => {
    const b = createBody({ network, ...extra }, templates);
    return { egress: b.egress, network: b.network };
  };
  // E2B's "deny all traffic except": an allow list here.
  assert.deepEqual(net({ denyOut: ["0.0.0.0/0"], allowOut: ["1.1.1.1", "example.com", "*.pypi.org"] }), {
    egress: true,
    network: { allow_out: ["1.1.1.1", "example.com", "pypi.org"], deny_out: [] },
  });
  assert.deepEqual(net({ allowOut: ["1.1.1.1"] }, { allow_internet_access: false }), { egress: true, network: { allow_out: ["1.1.1.1"], deny_out: [] } });
  assert.deepEqual(net({ denyOut: ["0.0.0.0/0"] }), { egress: false, network: undefined });
  // allowOut alone restricts nothing on E2B; a partial deny list stays one.
  assert.deepEqual(net({ allowOut: ["1.2.3.4/32"] }), { egress: undefined, network: undefined });
  assert.deepEqual(net({ denyOut: ["10.0.0.0/8"], allowOut: ["example.com", "192.168.1.1"] }), { egress: undefined, network: { allow_out: null, deny_out: ["10.0.0.0/8"] } });
  // An allowed exception inside a denied range cannot be said here: refused, not inverted.
  assert.throws(() => net({ denyOut: ["10.0.0.0/8"], allowOut: ["10.1.2.3"] }), (e: Error & { status?: number }) => e.status === 501 && /inside denyOut "10.0.0.0\/8"/.test(e.message));
  assert.throws(() => net({ denyOut: "10.0.0.0/8" }), (e: Error & { status?: number }) => e.status === 400);
});

test("what Podflare cannot honour is refused by name with 501, never dropped", () => {
  for (const body of [{ autoPause: true }, { mcp: {} }, { volumeMounts: [{ name: "v", path: "/v" }] }, { autoResume: { enabled: true } }, { network: { rules: {} } }]) {
    assert.throws(() => createBody(body, templates), (e: Error & { status?: number }) => e.status === 501 && /not supported yet/.test(e.message), JSON.stringify(body));
  }
});

test("the list query: states (comma list), doubly encoded metadata, template alias, paging", () => {
  const meta = new URLSearchParams({ [encodeURIComponent("k y")]: encodeURIComponent("v&1") }).toString();
  const url = new URL(`http://h/v2/sandboxes?state=paused&metadata=${encodeURIComponent(meta)}&template=base&limit=2&nextToken=4`);
  assert.deepEqual(parseListQuery(url, ["running"], templates), { states: ["paused"], metadata: { "k y": "v&1" }, template: "default", offset: 4, limit: 2 });
  assert.deepEqual(parseListQuery(new URL("http://h/v2/sandboxes?state=running,paused"), [], templates).states, ["running", "paused"]);
  assert.throws(() => parseListQuery(new URL("http://h/x?state=dead"), [], templates), /running or paused/);
});

test("PODFLARE_E2B_TEMPLATES replaces the template map", () => {
  assert.deepEqual(parseTemplateMap("base=default, code-interpreter-v1=default"), { base: "default", "code-interpreter-v1": "default" });
  assert.throws(() => parseTemplateMap("base"), /e2bName=ourTemplate/);
});
