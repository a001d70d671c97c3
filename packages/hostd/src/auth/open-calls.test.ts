import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import type { ServerResponse } from "node:http";
import { PassThrough } from "node:stream";
import { test } from "node:test";
import { OpenCalls } from "./open-calls.js";

const answer = () => new EventEmitter() as unknown as ServerResponse & EventEmitter;

test("a request's connection is the owner's only while it is answered: a keep-alive connection reused by another key is not closed", () => {
  const calls = new OpenCalls();
  const socket = new PassThrough();
  const first = answer();
  calls.trackRequest("key_a", socket, first);
  assert.equal(calls.count("key_a"), 1);
  first.emit("close");
  assert.equal(calls.count("key_a"), 0);
  calls.trackRequest("key_b", socket, answer());
  assert.equal(calls.closeAll("key_a"), 0);
  assert.equal(socket.destroyed, false);
  assert.equal(calls.closeAll("key_b"), 1);
  assert.equal(socket.destroyed, true);
});

test("closeAll closes every connection of the owner but the one doing it, and none of another owner", () => {
  const calls = new OpenCalls();
  const [pty, stream, revoking, others] = [new PassThrough(), new PassThrough(), new PassThrough(), new PassThrough()];
  calls.trackSocket("key_a", pty);
  calls.trackRequest("key_a", stream, answer());
  calls.trackRequest("key_a", revoking, answer());
  calls.trackSocket("key_b", others);
  assert.equal(calls.closeAll("key_a", revoking), 2);
  assert.deepEqual([pty.destroyed, stream.destroyed, revoking.destroyed, others.destroyed], [true, true, false, false]);
  assert.equal(calls.count("key_a"), 1);
  assert.equal(calls.count("key_b"), 1);
});

test("an upgraded connection leaves the registry when it closes; an in-process call (no socket) is not tracked", async () => {
  const calls = new OpenCalls();
  const ws = new PassThrough();
  calls.trackSocket("key_a", ws);
  ws.destroy();
  await new Promise((r) => setImmediate(r));
  assert.equal(calls.count("key_a"), 0);
  calls.trackRequest("key_a", undefined, answer());
  assert.equal(calls.count("key_a"), 0);
});
