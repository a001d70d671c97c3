import assert from "node:assert/strict";
import { test } from "node:test";
import { answerA, answerError, answerRecords, buildQuery, parseQuery, RCODE_NXDOMAIN, TYPE_AAAA } from "./dns-wire.js";

test("dns-wire: a query's question is read, case-folded", () => {
  const q = parseQuery(buildQuery(0x1234, "Files.PyPI.org"));
  assert.deepEqual(q && { id: q.id, name: q.name, type: q.type }, { id: 0x1234, name: "files.pypi.org", type: 1 });
  assert.equal(parseQuery(Buffer.from([1, 2, 3])), null);
  assert.equal(parseQuery(buildQuery(1, "x.test", TYPE_AAAA))?.type, TYPE_AAAA);
});

test("dns-wire: an A answer carries the addresses and the question", () => {
  const query = buildQuery(7, "pkgs.test");
  const q = parseQuery(query)!;
  const reply = answerA(query, q, ["192.0.2.1", "198.51.100.9"], 60);
  assert.equal(reply.readUInt16BE(0), 7);
  assert.ok(reply.readUInt16BE(2) & 0x8000);
  assert.deepEqual(answerRecords(reply), [{ addr: "192.0.2.1", ttlS: 60 }, { addr: "198.51.100.9", ttlS: 60 }]);
});

test("dns-wire: an error answer keeps the id and sets the code", () => {
  const query = buildQuery(9, "nowhere.test");
  const reply = answerError(query, parseQuery(query), RCODE_NXDOMAIN);
  assert.equal(reply.readUInt16BE(0), 9);
  assert.equal(reply.readUInt16BE(2) & 0xf, RCODE_NXDOMAIN);
  assert.deepEqual(answerRecords(reply), []);
});

test("dns-wire: hostile input is refused, never thrown", () => {
  const loop = Buffer.concat([buildQuery(1, "a").subarray(0, 12), Buffer.from([0xc0, 12, 0, 1, 0, 1])]);
  assert.equal(parseQuery(loop), null);
  const long = Buffer.concat([buildQuery(1, "a").subarray(0, 12), Buffer.from([200, 1, 2])]);
  assert.equal(parseQuery(long), null);
});
