// A file path in the query with bytes that are not valid percent-encoding is refused, on the
// REST and the E2B routes alike: URLSearchParams would decode them to U+FFFD and name another
// file (outside tester tf: `?path=/etc/%ff` read `/etc/\uFFFD`).
import { after, test } from "node:test";
import assert from "node:assert/strict";
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
