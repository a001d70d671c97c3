// The tool tests both transports run: the same cases through stdio and Streamable HTTP.
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { api, closeSandbox } from "../support/api.js";
import { call, ok, ourTools, podflareTools, sandboxAlive, sandboxGone, type McpConn } from "./support.js";

export function toolSuite(transport: string, hostdUrl: () => string, connect: () => Promise<McpConn>): void {
  const open: McpConn[] = [];
  const conn = async (): Promise<McpConn> => {
    const c = await connect();
    open.push(c);
    return c;
  };
  after(async () => {
    for (const c of open) await c.end().catch(() => undefined);
  });

  test(`${transport}: lists Podflare's seven tools and ours, with their arguments`, async () => {
    const { client } = await conn();
    const { tools } = await client.listTools();
    const names = tools.map((t) => t.name);
    for (const name of [...podflareTools, ...ourTools]) assert.ok(names.includes(name), `missing tool ${name}: ${names.join(", ")}`);
    const schema = (name: string) => tools.find((t) => t.name === name)!.inputSchema as { properties: Record<string, unknown>; required?: string[] };
    assert.deepEqual(schema("run_python").required, ["code"]);
    assert.ok("sandbox_id" in schema("run_python").properties);
    assert.deepEqual(schema("upload").required?.sort(), ["content_base64", "path"]);
    assert.deepEqual(schema("merge_into").required, ["winner_id"]);
  });

  test(`${transport}: the session's sandbox is made on first use and keeps REPL state across run_python calls`, async () => {
    const { client } = await conn();
    const a = await ok(client, "run_python", { code: "x = 41" });
    assert.match(String(a["sandbox_id"]), /^sbx_[0-9a-f]{32}$/);
    const b = await ok(client, "run_python", { code: "x += 1\nprint(x)" });
    assert.equal(b["sandbox_id"], a["sandbox_id"]);
    assert.deepEqual({ stdout: b["stdout"], exit_code: b["exit_code"] }, { stdout: "42\n", exit_code: 0 });
    const c = await ok(client, "run_bash", { code: "echo hi >&2; exit 3" });
    assert.deepEqual({ id: c["sandbox_id"], stderr: c["stderr"], exit_code: c["exit_code"] }, { id: a["sandbox_id"], stderr: "hi\n", exit_code: 3 });
    const d = await ok(client, "run_python", { code: "1/0" });
    assert.equal(d["exit_code"], 1);
    assert.match(String(d["stderr"]), /ZeroDivisionError/);
  });

  test(`${transport}: fork, diff and merge_into drive a fork tree by sandbox_id`, async () => {
    const { client } = await conn();
    await ok(client, "run_python", { code: "x = 'parent'" });
    const forked = await ok(client, "fork", { n: 2 });
    const [c1, c2] = forked["children"] as string[];
    assert.ok(c1 && c2);
    await ok(client, "run_python", { code: "x = 'child 2'\nopen('/root/won.txt', 'w').write('yes')", sandbox_id: c2 });
    const diff = await ok(client, "diff", { other_id: c2, sandbox_id: c1 });
    assert.deepEqual(diff, { added: ["/root/won.txt"], removed: [], modified: [] });
    const merged = await ok(client, "merge_into", { winner_id: c2 });
    assert.equal(merged["sandbox_id"], forked["parent"]);
    const after = await ok(client, "run_python", { code: "print(x, open('/root/won.txt').read())" });
    assert.equal(after["stdout"], "child 2 yes\n");
    assert.equal(after["sandbox_id"], forked["parent"]);
    // The winner's id is retired; the loser is still there until the session ends.
    const gone = await call(client, "run_python", { code: "print(1)", sandbox_id: c2 });
    assert.equal(gone.isError, true);
    assert.equal(gone.json["code"], "sandbox_not_found");
    assert.equal(await sandboxAlive(hostdUrl(), c1), true);
  });

  test(`${transport}: upload and download round-trip binary data (base64)`, async () => {
    const { client } = await conn();
    const data = Buffer.alloc(70_000);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7919) % 256;
    const up = await ok(client, "upload", { path: "/root/bin/data.bin", content_base64: data.toString("base64") });
    assert.equal(up["bytes"], data.length);
    const check = await ok(client, "run_python", { code: "import hashlib; print(hashlib.sha256(open('/root/bin/data.bin','rb').read()).hexdigest())" });
    const { createHash } = await import("node:crypto");
    assert.equal(String(check["stdout"]).trim(), createHash("sha256").update(data).digest("hex"));
    const down = await ok(client, "download", { path: "/root/bin/data.bin" });
    assert.equal(down["bytes"], data.length);
    assert.ok(Buffer.from(String(down["content_base64"]), "base64").equals(data));
    const listing = await ok(client, "list_files", { path: "/root/bin" });
    assert.deepEqual((listing["entries"] as { name: string; size: number }[]).map((e) => [e.name, e.size]), [["data.bin", data.length]]);
  });

  test(`${transport}: errors are tool errors with our code and message, and the server keeps serving`, async () => {
    const { client } = await conn();
    const unknown = await call(client, "run_python", { code: "print(1)", sandbox_id: `sbx_${"0".repeat(32)}` });
    assert.equal(unknown.isError, true);
    assert.equal(unknown.json["code"], "sandbox_not_found");
    const malformed = await call(client, "run_python", { code: "print(1)", sandbox_id: "nope" });
    assert.equal(malformed.isError, true);
    assert.match(JSON.stringify(malformed.content), /sbx_ followed by 32 hex digits/);
    const missing = await call(client, "download", { path: "/root/no/such/file" });
    assert.equal(missing.isError, true);
    assert.equal(missing.json["code"], "file_not_found");
    const dir = await call(client, "download", { path: "/root" });
    assert.equal(dir.isError, true);
    assert.equal(dir.json["code"], "is_a_directory");
    const b64 = await call(client, "upload", { path: "/root/x", content_base64: "not base64!" });
    assert.equal(b64.isError, true);
    assert.equal(b64.json["code"], "bad_request");
    // A 404 about another sandbox the call names does not make the session's own look dead.
    const noWinner = await call(client, "merge_into", { winner_id: `sbx_${"1".repeat(32)}` });
    assert.equal(noWinner.json["code"], "sandbox_not_found");
    const noOther = await call(client, "diff", { other_id: `sbx_${"2".repeat(32)}` });
    assert.equal(noOther.json["code"], "sandbox_not_found");
    const badPort = await call(client, "port_url", { port: 70000 });
    assert.equal(badPort.isError, true);
    // Still serving, and still on the same sandbox.
    assert.equal((await ok(client, "run_python", { code: "print(6 * 7)" }))["stdout"], "42\n");
  });

  test(`${transport}: a session sandbox that died is reported, and replaced only when the caller asks`, async () => {
    const { client } = await conn();
    const first = await ok(client, "run_python", { code: "y = 1" });
    const id = String(first["sandbox_id"]);
    await closeSandbox(id, hostdUrl()); // dies from outside the session
    const lost = await call(client, "run_python", { code: "print(y)" });
    assert.equal(lost.isError, true);
    assert.equal(lost.json["code"], "sandbox_not_found");
    assert.match(String(lost.json["error"]), new RegExp(`${id} is gone.*recreate: true`));
    // Still reported, not silently replaced.
    assert.equal((await call(client, "run_bash", { code: "true" })).isError, true);
    const fresh = await ok(client, "run_python", { code: "print('y' in globals())", recreate: true });
    assert.notEqual(fresh["sandbox_id"], id);
    assert.equal(fresh["stdout"], "False\n");
    const made = await ok(client, "create_sandbox", { memory_mb: 512, egress: false });
    assert.deepEqual(
      [(made["applied"] as { memory_mb: number }).memory_mb, (made["applied"] as { egress: boolean }).egress],
      [512, false],
    );
    assert.equal((await ok(client, "run_python", { code: "print(1)" }))["sandbox_id"], made["sandbox_id"]);
    const listed = await ok(client, "list_sandboxes");
    const current = (listed["sandboxes"] as { id: string; current: boolean }[]).filter((s) => s.current).map((s) => s.id);
    assert.deepEqual(current, [made["sandbox_id"]]);
  });

  test(`${transport}: a persistent sandbox freezes to a Space and resume_space brings its state back`, async () => {
    const { client } = await conn();
    const made = await ok(client, "create_sandbox", { persistent: true });
    await ok(client, "run_python", { code: "kept = 'from before the freeze'" });
    const frozen = await ok(client, "freeze");
    assert.equal(frozen["sandbox_id"], made["sandbox_id"]);
    const spaceId = String(frozen["space_id"]);
    const resumed = await ok(client, "resume_space", { space_id: spaceId });
    assert.notEqual(resumed["sandbox_id"], made["sandbox_id"]);
    const r = await ok(client, "run_python", { code: "print(kept)" });
    assert.deepEqual([r["sandbox_id"], r["stdout"]], [resumed["sandbox_id"], "from before the freeze\n"]);
    const again = await call(client, "resume_space", { space_id: spaceId });
    assert.equal(again.json["code"], "space_not_found");
    // Persistent sandboxes outlive the session: close this one ourselves.
    assert.deepEqual(await ok(client, "close_sandbox"), { closed: resumed["sandbox_id"] });
  });

  test(`${transport}: ending the session closes the sandboxes it made (its own and fork children)`, async () => {
    const c = await connect();
    const own = String((await ok(c.client, "run_python", { code: "print(1)" }))["sandbox_id"]);
    const kids = (await ok(c.client, "fork", { n: 1 }))["children"] as string[];
    const url = await ok(c.client, "port_url", { port: 8000 });
    assert.match(String(url["url"]), new RegExp(`/v1/sandboxes/${own}/ports/8000/$`));
    assert.equal(await sandboxAlive(hostdUrl(), own), true);
    await c.end();
    await sandboxGone(hostdUrl(), own);
    await sandboxGone(hostdUrl(), kids[0]!);
  });

  test(`${transport}: a sandbox named by id but made elsewhere is used, and left open at the end`, async () => {
    const res = await api("POST", "/v1/sandboxes", {}, hostdUrl());
    const { id } = (await res.json()) as { id: string };
    try {
      const c = await connect();
      assert.equal((await ok(c.client, "run_python", { code: "print(2)", sandbox_id: id }))["stdout"], "2\n");
      await c.end();
      assert.equal(await sandboxAlive(hostdUrl(), id), true);
    } finally {
      await closeSandbox(id, hostdUrl());
    }
  });
}
