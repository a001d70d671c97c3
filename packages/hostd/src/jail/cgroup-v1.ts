// The cgroup v1 backend's limits (one hierarchy per controller): a sandbox's group and the
// shared parent's ceiling.
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { readText, write } from "./cgroup-files.js";
import type { CgroupLayout } from "./cgroup-layout.js";
import { CPU_PERIOD_US, type GroupLimitValues } from "./cgroup-limits.js";

export function createV1(l: CgroupLayout, id: string, v: GroupLimitValues): void {
  for (const c of l.v1Controllers) {
    mkdirSync(path.join(l.root, c, l.parent), { recursive: true });
    mkdirSync(l.dir(id, c));
  }
  const mem = l.dir(id, "memory");
  write(path.join(mem, "memory.limit_in_bytes"), String(v.memBytes));
  // memsw = memory + swap; equal to the memory limit means no swap at all.
  if (existsSync(path.join(mem, "memory.memsw.limit_in_bytes"))) {
    write(path.join(mem, "memory.memsw.limit_in_bytes"), String(v.memBytes));
  }
  try {
    write(path.join(mem, "memory.swappiness"), "0");
  } catch {
    /* not offered by every kernel */
  }
  // v1 charges socket buffers (TCP and UDP) to a group only once its kmem.tcp limit is set;
  // unset, a 1 GB sandbox pinned 2.2 GB of TCP and 2.5 GB of UDP buffers outside every limit
  // (v2 charges them to memory.max by itself).
  const tcp = path.join(mem, "memory.kmem.tcp.limit_in_bytes");
  if (existsSync(tcp)) write(tcp, String(socketBytesV1(v.memBytes)));
  const cpu = l.dir(id, "cpu");
  write(path.join(cpu, "cpu.cfs_period_us"), String(CPU_PERIOD_US));
  write(path.join(cpu, "cpu.cfs_quota_us"), String(v.quotaUs));
  write(path.join(l.dir(id, "pids"), "pids.max"), String(v.pidsMax));
}

export function setCeilingV1(l: CgroupLayout, memBytes: string, pidsMax: string): void {
  for (const c of l.v1Controllers) mkdirSync(path.join(l.root, c, l.parent), { recursive: true });
  const mem = path.join(l.root, "memory", l.parent);
  try {
    // v1 counts children in a parent's usage only with use_hierarchy (always on since 5.16;
    // refused once the group has children, by which time it was set by an earlier start).
    if (readText(path.join(mem, "memory.use_hierarchy")).trim() !== "1") write(path.join(mem, "memory.use_hierarchy"), "1");
  } catch {
    /* no such file: hierarchy is the only mode */
  }
  write(path.join(mem, "memory.limit_in_bytes"), memBytes);
  // All sandboxes' socket buffers together stay under half the host's TCP pressure threshold,
  // so they alone never put the host's own connections under memory pressure.
  const tcp = path.join(mem, "memory.kmem.tcp.limit_in_bytes");
  if (existsSync(tcp)) write(tcp, String(sandboxesSocketBytesV1()));
  write(path.join(l.root, "pids", l.parent, "pids.max"), pidsMax);
}

/** A sandbox's socket buffers on v1: a quarter of its memory limit, at least 64 MiB. */
function socketBytesV1(memBytes: number): number {
  return Math.max(64 * 1024 * 1024, Math.floor(memBytes / 4));
}

/** All sandboxes' socket buffers on v1: half of net.ipv4.tcp_mem's pressure threshold (pages). */
function sandboxesSocketBytesV1(): number {
  const tcpMem = readFileSync("/proc/sys/net/ipv4/tcp_mem", "utf8");
  const pressurePages = Number(tcpMem.trim().split(/\s+/)[1]);
  return Math.floor((pressurePages * 4096) / 2);
}
