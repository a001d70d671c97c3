// The test hostd's process, found by the port it listens on, and its resident memory: what the
// slow-reader and flood tests watch to prove hostd's memory per client is bounded.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import { hostdUrl } from "./api.js";

export function hostdPid(url = hostdUrl()): number {
  const port = new URL(url).port;
  const r = spawnSync("ss", ["-ltnpH", `sport = :${port}`], { encoding: "utf8" });
  const pid = /pid=(\d+)/.exec(r.stdout)?.[1];
  assert.ok(pid, `no process listens on port ${port}: ${r.stdout}${r.stderr}`);
  return Number(pid);
}

export function rssBytes(pid: number): number {
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]) * 1024;
}
