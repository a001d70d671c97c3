// The runtime interface: what hostd needs from whatever isolates a sandbox (namespaces today,
// a VM later). Nothing here assumes namespaces; the guest kernel protocol is the common ground.
import type { GuestConnection } from "./guest-connection.js";
import type { EgressPolicy } from "../network/policy.js";
import type { PoolRoom } from "../storage/pool-room.js";
import type { PodflareError } from "@podflare/protocol";

export interface SandboxLimits {
  memoryMb: number;
  vcpus: number;
  diskMb: number;
  pidsMax: number;
}

export interface RuntimeSandboxSpec {
  id: string;
  template: string;
  limits: SandboxLimits;
  /** Environment every process in the sandbox starts with. */
  env: Record<string, string>;
  /** Start from this Space's saved root filesystem instead of the template. */
  fromSpace?: string;
  /** Outbound networking; absent or egress false: loopback only. */
  network?: SandboxNetwork;
  /** A warm-pool boot: gets only the CPU live sandboxes leave, until foreground(). */
  background?: boolean;
  /** The warm pool's zygote: its family holds every spawned family, so it gets no family ceilings. */
  zygote?: boolean;
  /** The tenant whose share of the pool the root counts against; absent: none (the warm pool, the local caller). */
  owner?: string;
}

export interface SandboxNetwork {
  egress: boolean;
  policy: EgressPolicy;
}

/** What the runtime keeps in the metadata store to find a sandbox again after a restart. */
export interface RuntimeHandle {
  initPid: number;
  initStartTime: string;
  /** The fork family the sandbox belongs to (its family init); absent for records made before fork existed. */
  family?: FamilyHandle;
  /**
   * For a sandbox the warm pool spawned from a zygote (docs/security.md, "Warm pool spawn"): the zygote's
   * family, whose pid namespace holds `family`'s. Its init must outlive every such member.
   */
  outerFamily?: FamilyHandle;
}

export interface FamilyHandle {
  id: string;
  pid: number;
  startTime: string;
}

export interface ForkResult {
  children: RuntimeSandbox[];
  /** Whether the children and the parent are kept apart by Landlock scoping (see docs/security.md). */
  landlock: boolean;
}

export interface RuntimeSandbox {
  readonly id: string;
  readonly handle: RuntimeHandle;
  /** The long-lived control connection to the guest kernel, (re)started when needed. */
  control(): Promise<GuestConnection>;
  /** A fresh connection for one file transfer, so a big transfer never blocks exec. */
  openConnection(): Promise<GuestConnection>;
  /** Paces the program output its connections relay (GuestConnection.meter); set by the lifecycle for its owner. */
  outputMeter?: (bytes: number) => number;
  /** Back to a normal CPU share (a pooled sandbox handed to a user). */
  foreground(): void;
  /** Its CPU share under contention, in cpu.weight units: its owner's divided among its sandboxes. */
  setCpuWeight(weight: number): void;
  /** Kills the guest kernel (not the sandbox); the next control() starts a fresh one. */
  killKernel(): void;
  /** How many processes the kernel's OOM killer has killed in this sandbox so far. */
  oomKills(): number;
  /** destroy() was called: the sandbox is being closed, or is gone. */
  readonly closed: boolean;
  /**
   * Kills every process of the sandbox; resolves once none runs. What it held on the host
   * (cgroup, link, root) is reclaimed in the background: Runtime.settle() waits for that.
   */
  destroy(): Promise<void>;
  /** Drops hostd's connections and leaves the sandbox running (hostd shutdown). */
  detach(): void;
  /**
   * Kills every process of the sandbox but the guest kernel and the sandbox's init, from the
   * host side (works when nothing can start inside); resolves with how many it killed.
   */
  killProcesses(): Promise<number>;
  /** Replaces the guest kernel with a fresh one (empty REPL); files and other processes stay. */
  restartRepl(): Promise<void>;
  /** Stops every process of the sandbox in place (cgroup freezer), and lets them go on. */
  pause(): Promise<void>;
  /** Between a pause() and its resume(): nothing in the sandbox runs, an interrupt included. */
  readonly paused: boolean;
  resume(): Promise<void>;
}

export interface Runtime {
  readonly kind: string;
  create(spec: RuntimeSandboxSpec): Promise<RuntimeSandbox>;
  /** Work that makes later creates of these templates cheaper; done once at start, before the warm pool fills. */
  prepare?(templates: string[]): Promise<void>;
  /** Re-attaches to a sandbox that kept running while hostd was down; null if it is gone. */
  /** `paused`: the sandbox is frozen; its kernel is reached when it is resumed, not now. */
  adopt(spec: RuntimeSandboxSpec, handle: RuntimeHandle, opts?: { paused?: boolean }): Promise<RuntimeSandbox | null>;
  /** Removes whatever a crashed hostd left behind for ids not in `keep`. */
  reconcile(keep: Set<string>): Promise<string[]>;
  /** Tears down a sandbox known only by id (its runtime object is gone), all of it. */
  destroyById(id: string): Promise<void>;
  /** Waits until what closed sandboxes held on the host is reclaimed (hostd stop, tests). */
  settle(): Promise<void>;
  /**
   * Starts one child per spec from the parent's live state (memory and files). Throws
   * PodflareError; on failure nothing of the children is left and the parent is untouched.
   */
  fork(parent: RuntimeSandbox, children: RuntimeSandboxSpec[]): Promise<ForkResult>;
  /**
   * The warm pool's refill: one fresh sandbox per spec, forked from `zygote` (a pristine
   * sandbox of the same template that never ran code) into a root of the template's and a
   * family of its own. Optional: without it the pool boots every sandbox cold.
   */
  spawn?(zygote: RuntimeSandbox, specs: RuntimeSandboxSpec[]): Promise<RuntimeSandbox[]>;
  /** Keeps a copy of the sandbox's root filesystem as a Space (the sandbox is left as it is). */
  saveSpace(sb: RuntimeSandbox, spaceId: string): Promise<void>;
  deleteSpace(spaceId: string): Promise<void>;
  listSpaces(): Promise<string[]>;
  /** Storage's Space marks and set-aside (storage/types.ts); optional for runtimes without them. */
  markSpacePending?(spaceId: string, pending: boolean): Promise<void>;
  pendingSpaces?(): Promise<string[]>;
  setAsideSpace?(spaceId: string): Promise<string>;
  /** Bytes the sandbox's root holds beyond its template (what a Space of it costs); optional. */
  diskUsageBytes?(sb: RuntimeSandbox): Promise<number>;
  /** Gives a running sandbox a link out, takes it away, or changes its egress policy. */
  setNetwork(sb: RuntimeSandbox, network: SandboxNetwork): Promise<void>;
  /** The sandbox's IPv4 address, or null without egress. */
  addressOf(sb: RuntimeSandbox): string | null;
  /** Puts back the sandbox's network rules and link if they drifted (optional). */
  checkNetwork?(sb: RuntimeSandbox): Promise<void>;
  /** The storage pool's own room, which all sandboxes share (optional). */
  readonly room?: PoolRoom;
  /** A pooled sandbox handed to `owner`: its root counts against the owner's share from now on. */
  claimFor?(sb: RuntimeSandbox, owner: string | undefined): Promise<void>;
  /** Why a create, fork or resume for `owner` is refused now (the pool, or its share, is full). */
  refuseNew?(what: string, owner: string | undefined): PodflareError | undefined;
  /** A no_space told as what is full: the sandbox's disk_mb, its owner's share, or the pool. */
  explainNoSpace?(err: unknown, owner: string | undefined): unknown;
}
