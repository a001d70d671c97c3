// Auth fails closed (DESIGN §11): the mode is decided at start and only gets stricter. Attacks:
// revoke the last key of a hostd on a non-loopback bind to turn auth off (through the API and
// the CLI); use the window after `podflare keys create` in which the first key was not enforced.
//
// The non-loopback hostd runs in a network namespace of this test's own (nsenter --net only, so
// its mounts and cgroups are the host's as usual) and listens on 198.18.<n>.2, an address of a
// veth whose other end (198.18.<n>.1, the benchmarking range, never routed anywhere) is on the
// host: a real non-loopback bind that only this test can reach. Sandbox networking is off there.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import { api } from "../support/api.js";
import { ownHostd, runCli, startTestHostd, teardownStateDir, type TestHostd } from "../support/hostd-process.js";

function sh(argv: string[], input?: string): void {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: "utf8", input });
  if (r.status !== 0) throw new Error(`${argv.join(" ")}: exit ${r.status}: ${r.stderr}`);
}

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

describe("a hostd on a non-loopback bind", () => {
  const { stateDir, port } = ownHostd("auth-wide", 15);
  const tag = crypto.randomBytes(3).toString("hex");
  const netns = `pft-auth-${tag}`;
  const hostLink = `pfa${tag}`;
  const octet = 1 + (parseInt(tag, 16) % 250);
  const bindHost = `198.18.${octet}.2`;
  let hostd: TestHostd;
  let key: string;

  before(async () => {
    fs.rmSync(stateDir, { recursive: true, force: true });
    sh(["ip", "netns", "add", netns]);
    sh(["ip", "link", "add", hostLink, "type", "veth", "peer", "name", "eth0", "netns", netns]);
    sh(["ip", "-batch", "-"], `addr add 198.18.${octet}.1/30 dev ${hostLink}\nlink set ${hostLink} up\n`);
    sh(["ip", "-n", netns, "-batch", "-"], `link set lo up\naddr add ${bindHost}/30 dev eth0\nlink set eth0 up\n`);
    const made = runCli(["keys", "create", "--tier", "pro", "--name", "only", "--admin"], stateDir);
    assert.equal(made.status, 0, made.stderr);
    key = made.stdout.trim();
    hostd = await startTestHostd({ stateDir, port, host: bindHost, launcher: ["nsenter", `--net=/run/netns/${netns}`], env: { PODFLARE_NETWORK: "off" } });
  });

  after(async () => {
    await hostd?.stop();
    spawnSync("ip", ["netns", "del", netns]); // takes the veth pair with it
    teardownStateDir(stateDir);
    fs.rmSync(stateDir, { recursive: true, force: true });
  });

  test("revoking its last key through the API answers 409 conflict, and auth is still required", async () => {
    const list = (await (await api("GET", "/v1/keys", undefined, hostd.url, bearer(key))).json()) as { keys: { id: string }[] };
    const id = list.keys[0]!.id;
    const res = await api("DELETE", `/v1/keys/${id}`, undefined, hostd.url, bearer(key));
    const text = await res.text();
    assert.equal(res.status, 409, `revoking the last key answered ${res.status} ${text}`);
    const body = JSON.parse(text) as { code: string; error: string };
    assert.equal(body.code, "conflict");
    assert.match(body.error, /last API key .* Create another key first/);
    assert.equal((await api("GET", "/v1/sandboxes", undefined, hostd.url)).status, 401);
    assert.equal((await api("GET", "/v1/sandboxes", undefined, hostd.url, bearer(key))).status, 200);
  });

  test("revoking its last key with `podflare keys revoke` is refused, and auth is still required", async () => {
    const r = runCli(["keys", "revoke", key], stateDir);
    assert.notEqual(r.status, 0, `the CLI revoked the last key: ${r.stdout}`);
    assert.match(r.stderr, /last API key of a hostd listening on 198\.18\.\d+\.2 .*Create another key first/);
    assert.equal((await api("GET", "/v1/sandboxes", undefined, hostd.url)).status, 401);
    assert.equal((await api("GET", "/v1/sandboxes", undefined, hostd.url, bearer(key))).status, 200);
  });

  test("with a second key, the first can be revoked; the second then is the last and stays", async () => {
    const made = await api("POST", "/v1/keys", { name: "second", tier: "pro", admin: true }, hostd.url, bearer(key));
    const second = (await made.json()) as { key: string; id: string };
    assert.equal(made.status, 200);
    assert.equal(made.headers.get("cache-control"), "no-store", "the one answer that shows a key may be cached along the way");
    assert.equal(runCli(["keys", "revoke", key], stateDir).status, 0);
    assert.equal((await api("GET", "/v1/sandboxes", undefined, hostd.url, bearer(key))).status, 401, "the revoked key still works");
    const res = await api("DELETE", `/v1/keys/${second.id}`, undefined, hostd.url, bearer(second.key));
    assert.equal(res.status, 409);
    assert.equal((await api("GET", "/v1/sandboxes", undefined, hostd.url)).status, 401);
  });
});

describe("a hostd on loopback started with no key", () => {
  const { stateDir, port } = ownHostd("auth-first", 16);
  let hostd: TestHostd;

  before(async () => {
    fs.rmSync(stateDir, { recursive: true, force: true });
    hostd = await startTestHostd({ stateDir, port });
  });
  after(async () => {
    await hostd?.stop();
    teardownStateDir(stateDir);
    fs.rmSync(stateDir, { recursive: true, force: true });
  });

  test("the first key made with `podflare keys create` is enforced from the next request, and stays enforced after it is revoked", async () => {
    assert.equal((await api("GET", "/v1/sandboxes", undefined, hostd.url)).status, 200, "auth is off before any key exists");
    const made = runCli(["keys", "create", "--tier", "pro", "--name", "first"], stateDir);
    assert.equal(made.status, 0, made.stderr);
    const key = made.stdout.trim();
    const res = await api("GET", "/v1/sandboxes", undefined, hostd.url);
    assert.equal(res.status, 401, "a request without a key passed after the first key was created");
    assert.deepEqual(await res.json(), { error: "missing Authorization: Bearer <key>", code: "unauthorized" });
    assert.equal((await api("GET", "/v1/sandboxes", undefined, hostd.url, bearer(key))).status, 200);
    // On loopback the last key may go; auth does not go with it.
    assert.equal(runCli(["keys", "revoke", key], stateDir).status, 0);
    assert.equal((await api("GET", "/v1/sandboxes", undefined, hostd.url)).status, 401);
  });
});
