// The request target is read as the client wrote it (outside tester tf): a query with bytes
// that are not valid percent-encoding is refused, on the REST and the E2B routes alike
// (URLSearchParams decoded them to U+FFFD: `?path=/etc/%ff` read `/etc/\uFFFD`), and a path
// that starts with `//` is a path, not a host.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { SandboxPool, api, hostdUrl } from "../support/api.js";

const pool = new SandboxPool();
after(() => pool.closeAll());

test("?path= with %ff, a cut sequence or a lone surrogate answers 400 bad_request (REST) and 400 (E2B), naming the part", async () => {
  const id = await pool.create();
  for (const bad of ["/etc/%ff", "/root/%E0%A4%A", "/root/%ED%A0%80"]) {
    const r = await api("GET", `/v1/sandboxes/${id}/files?path=${bad}`);
    const body = (await r.json()) as { code: string; error: string };
    assert.equal(r.status, 400, JSON.stringify(body));
    assert.equal(body.code, "bad_request");
    assert.match(body.error, /not valid percent-encoding/);
    const e2b = await fetch(`${hostdUrl()}/files?path=${bad}`, { headers: { "E2b-Sandbox-Id": id, "E2b-Sandbox-Port": "49983", "X-API-KEY": "any" } });
    assert.equal(e2b.status, 400, await e2b.text());
  }
  const listed = await fetch(`${hostdUrl()}/v2/sandboxes?metadata=%ZZ`, { headers: { "X-API-KEY": "any" } });
  assert.equal(listed.status, 400, "a bad metadata filter is refused, not read as no filter");
  // Good encoding still works.
  const ok = await api("GET", `/v1/sandboxes/${id}/fs/stat?path=${encodeURIComponent("/root")}`);
  assert.equal(ok.status, 200);
});

test("a path that starts with // is a path: //x/v1/sandboxes is not routed as /v1/sandboxes (a proxy's path rule in front would see one path, hostd serve another)", async () => {
  const get = (path: string) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const u = new URL(hostdUrl());
      const req = http.request({ host: u.hostname, port: Number(u.port), path, method: "GET", agent: false }, (res) => {
        let body = "";
        res.setEncoding("utf8").on("data", (d: string) => (body += d)).on("end", () => resolve({ status: res.statusCode!, body }));
      });
      req.on("error", reject);
      req.end();
    });
  for (const path of ["//x/v1/sandboxes", "//v1/capacity", "//v1//sandboxes"]) {
    const r = await get(path);
    assert.equal(r.status, 404, `${path}: ${r.body}`);
    assert.match(r.body, new RegExp(`no route for GET ${path.replace(/\//g, "\\/")};`));
  }
  assert.equal((await get("/v1/capacity")).status, 200);
});
