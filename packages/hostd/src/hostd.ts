// hostd: wires storage, the jail, the runtime, the metadata store and the REST API together.
import os from "node:os";
import { AuthStartError, LOCAL_OWNER, createAuthenticator } from "./auth/authenticator.js";
import { lastKeyGuard } from "./auth/last-key.js";
import { KeyStore } from "./auth/keys.js";
import { OpenCalls } from "./auth/open-calls.js";
import { Revocations } from "./auth/revocations.js";
import type { TierName } from "./auth/tiers.js";
import { UsageStore } from "./lifecycle/usage.js";
import { UsageHistory } from "./lifecycle/usage-history.js";
import { newSandboxId } from "./lifecycle/sandbox-manager.js";
import { Reaper } from "./lifecycle/reaper.js";
import { SpaceService } from "./lifecycle/spaces.js";
import { WarmPool } from "./lifecycle/warm-pool.js";
import { execCall } from "./api/exec-routes.js";
import { LocalApi } from "./api/local-api.js";
import { createCall } from "./api/sandbox-routes.js";
import { BodyBudget, setBodyBudget } from "./api/body-budget.js";
import { RequestPacer, setRequestPacer } from "./api/request-pacer.js";
import { buildRoutes } from "./api/routes.js";
import { createApiServer } from "./api/server.js";
import { LazyMcp, mcpRoutes } from "./api/mcp-routes.js";
import { createE2bHandler } from "./e2b/index.js";
import { installSafetyNet } from "./safety-net.js";
import { PortProxy } from "./api/port-proxy.js";
import { PtyServer } from "./api/pty-routes.js";
import { requestObserver } from "./api/request-log.js";
import { createMetricsServer } from "./api/metrics-server.js";
import { jsonLogger, type Logger } from "./log.js";
import { HostdMetrics, deletedSubvolumes, timeMethod } from "./metrics/index.js";
import { isLoopback, type HostdConfig } from "./config.js";
import { CgroupManager, favorDynamicMods, releaseDynamicMods, shieldFromOom } from "./jail/index.js";
import { familyLimits, hostBudgets, raiseHostBudgets } from "./jail/kernel-counters.js";
import { SandboxManager } from "./lifecycle/sandbox-manager.js";
import { NsRuntime } from "./runtime/ns/ns-runtime.js";
import { NetworkService } from "./network/network-service.js";
import { OPEN_POLICY } from "./network/policy.js";
import { checkHost } from "./host-check.js";
import { checkPortFree, listen } from "./listen.js";
import { lockStateDir } from "./state-dir-lock.js";
import { openStore } from "./store/index.js";
import { refuseLostStore, storeIsNew } from "./lost-store.js";
import { createStoragePool, createTemplateManager, isSandboxId, type ProgressEvent } from "./storage/index.js";

/** How often keys revoked by another process (`podflare keys revoke`) are looked for. */
const REVOCATION_SWEEP_MS = 2000;

/** How long a stop waits for the calls under way to be answered (hostd.ts, close). */
const SHUTDOWN_DRAIN_MS = 30_000;

export interface Hostd {
  readonly url: string;
  readonly sandboxes: SandboxManager;
  /** Stops serving; sandboxes keep running and are re-adopted by the next start. */
  close(): Promise<void>;
}

export interface StartOptions {
  /** Where hostd logs (default: JSON lines on stderr, log.ts). */
  log?: Logger;
  onTemplateProgress?: (template: string, event: ProgressEvent) => void;
}

export async function startHostd(cfg: HostdConfig, opts: StartOptions = {}): Promise<Hostd> {
  const log = opts.log ?? jsonLogger();
  const loopback = isLoopback(cfg.addr.host);
  const keyGuard = lastKeyGuard({ host: cfg.addr.host, loopback, authDisabled: cfg.authDisabled, envKeys: cfg.apiKeys.length, adminKey: cfg.adminKey !== undefined });
  // Before anything else: a second hostd on this state dir would reload the router's rules and
  // reconcile cgroups under the running one's sandboxes.
  const stateLock = lockStateDir(cfg.stateDir, { what: "hostd", addr: `${cfg.addr.host}:${cfg.addr.port}`, keepLastKey: keyGuard.keep });
  checkHost();
  try {
    await checkPortFree(cfg.addr, "PODFLARE_HOSTD_ADDR");
    if (cfg.metricsAddr) await checkPortFree(cfg.metricsAddr, "PODFLARE_METRICS_ADDR");
  } catch (err) {
    stateLock.release();
    throw err;
  }
  // Before the jail server and the DNS forwarder start: both inherit it.
  if (!shieldFromOom()) {
    log("WARNING: hostd is not shielded from the OOM killer: oom_score_adj -1000 needs CAP_SYS_RESOURCE, which this host withholds; sandboxes still run at a higher oom_score_adj than hostd");
  }

  const newStore = storeIsNew(cfg.stateDir);
  const store = openStore(cfg.stateDir);
  const keyStore = new KeyStore(store.keys);
  let auth;
  try {
    auth = createAuthenticator({
      keyStore,
      envKeys: cfg.apiKeys,
      envTier: cfg.apiKeysTier,
      adminKey: cfg.adminKey,
      localTier: "enterprise",
      disabled: cfg.authDisabled,
      bind: { host: cfg.addr.host, loopback },
    });
  } catch (err) {
    store.close();
    stateLock.release();
    throw err instanceof AuthStartError ? new Error(err.message) : err;
  }
  if (auth.mode === "off" && !loopback) {
    log(`WARNING: auth is disabled and the API listens on ${cfg.addr.host}: anyone who can reach it runs code here`);
  }

  const storage = await createStoragePool({
    stateDir: cfg.stateDir,
    driver: cfg.storageDriver,
    poolSizeGb: cfg.poolSizeGb,
    log,
  });
  if (newStore) {
    const lost = await refuseLostStore(cfg.stateDir, storage, () => store.close());
    if (lost) {
      stateLock.release();
      throw lost;
    }
  }
  const templates = createTemplateManager({ pool: storage, cacheDir: cfg.templateCacheDir, uidBase: cfg.uidBase, log });
  await templates.sweepBuilds();
  for (const name of cfg.ensureTemplates) {
    await templates.ensureTemplate(name, { onProgress: (e) => opts.onTemplateProgress?.(name, e) });
  }

  const cgroups = new CgroupManager({ parent: cfg.cgroupParent });
  try {
    cgroups.setCeiling(cfg.sandboxesCeiling);
    log(`sandboxes together: at most ${cfg.sandboxesCeiling.memoryMb} MB of memory and ${cfg.sandboxesCeiling.pidsMax} tasks`);
  } catch (err) {
    // Lowering below what running sandboxes use is refused (v1: EBUSY): keep serving them.
    log(`WARNING: could not set the sandboxes' ceiling (${(err as Error).message}); lower PODFLARE_SANDBOXES_MEMORY_MB/PIDS_MAX only with fewer sandboxes running`);
  }
  if (cfg.cgroupFavorDynmods) {
    const dyn = favorDynamicMods(cfg.stateDir);
    if (!dyn.ok) log(`cgroup favordynmods not available (${dyn.reason}): each create and fork may wait ~10 ms for the kernel's cgroup lock`);
  }
  // Every family's ceilings must fit in the host-level budget all sandboxes share (live and
  // pooled sandboxes, plus zygotes and the guest compile's).
  const budgets = raiseHostBudgets(hostBudgets(cfg.maxSandboxes + cfg.poolSize + 2 * cfg.ensureTemplates.length + 8, cfg.sandboxesCeiling.memoryMb));
  for (const c of budgets.filter((b) => !b.error)) log(`raised ${c.sysctl} from ${c.from} to ${c.to}: the budget all sandboxes share (docs/operations.md, "Host settings")`);
  const stuck = budgets.filter((b) => b.error);
  if (stuck.length) {
    log(`WARNING: could not raise ${stuck.map((b) => `${b.sysctl} (${b.from}, wanted ${b.to}: ${b.error})`).join(", ")}: enough sandboxes together can use these up for the others (docs/security.md, "Per-user kernel counters")`);
  }
  const liveSandboxes = (): number => cgroups.listIds().filter((id) => isSandboxId(id) && cgroups.pids(id).length > 0).length;
  const network = cfg.network ? await NetworkService.start({ ...cfg.network, cgroupParent: cfg.cgroupParent, stateDir: cfg.stateDir, store, log, liveSandboxes }) : null;
  if (network) log(`network: sandboxes get addresses in ${network.plan.gateway}/${network.plan.cidr.prefix} (router namespace ${network.netns})`);
  const runtime = new NsRuntime({ stateDir: cfg.stateDir, storage, cgroups, uidBase: cfg.uidBase, uidCount: cfg.uidCount, familyLimits, ownerDiskPercent: cfg.ownerDiskPercent, network, log });
  // The pool refills only while no user create is in flight (the manager is made just below).
  const userCreates = (): number => sandboxes.creatingNow;
  const usage = new UsageStore(store.usage);
  const unpooled = cfg.poolTemplates.filter((t) => !cfg.ensureTemplates.includes(t));
  if (unpooled.length) {
    log(`WARNING: PODFLARE_POOL_TEMPLATES names ${unpooled.join(", ")}, not in PODFLARE_TEMPLATES (${cfg.ensureTemplates.join(", ")}): no warm pool for ${unpooled.length === 1 ? "it" : "them"}`);
  }
  const pool: WarmPool = new WarmPool(runtime, {
    size: cfg.poolSize,
    refillParallel: cfg.poolRefillParallel,
    spawnBatch: cfg.poolSpawnBatch,
    templates: cfg.poolTemplates.filter((t) => cfg.ensureTemplates.includes(t)),
    limits: { memoryMb: cfg.defaults.memoryMb, vcpus: Math.min(cfg.defaults.vcpus, os.availableParallelism()), diskMb: cfg.defaults.diskMb, pidsMax: cfg.defaults.pidsMax },
    newId: () => newSandboxId(cfg.regionTag),
    network: network ? { egress: true, policy: OPEN_POLICY } : undefined,
    busy: () => userCreates() > 0,
    log,
  });
  const sandboxes: SandboxManager = new SandboxManager(cfg, store.sandboxes, runtime, { has: (name) => storage.hasTemplateNow(name) }, log, usage, pool);
  const spaces = new SpaceService(store.spaces, runtime, sandboxes, log, cfg.spaceCaps, cfg.regionTag);
  // The reaper's freezes count against the owner's Space caps: stored keys carry their tier.
  const tierOf = (owner: string): TierName => keyStore.get(owner)?.tier ?? (owner.startsWith("key_") ? cfg.apiKeysTier : "enterprise");
  const reaper = new Reaper(sandboxes, spaces, log, { tierOf, poolFull: () => runtime.room.full() !== undefined });
  const outputMb = cfg.outputMbPerSPerKey;
  if (outputMb > 0) {
    // Relaying a program's output costs hostd about 10 ms of CPU a MB, charged to no sandbox.
    const output = new RequestPacer(outputMb * 1024 * 1024, 4 * outputMb * 1024 * 1024);
    sandboxes.outputMeterFor = (owner) => (owner === LOCAL_OWNER ? undefined : (bytes) => output.delayMs(owner, bytes));
  }
  const { adopted, removed } = await sandboxes.start();
  if (adopted.length) log(`re-adopted ${adopted.length} running sandbox(es)`);
  if (removed.length) log(`removed leftovers of ${removed.length} sandbox(es) from an earlier run`);
  await spaces.reconcile();
  await runtime.prepare(cfg.ensureTemplates);
  pool.start();
  reaper.start();
  const usageHistory = new UsageHistory(store.usageHistory, { owners: () => store.usage.owners(), report: (o) => sandboxes.usageOf(o) }, { ...cfg.usageHistory, log });
  usageHistory.start();

  const metrics = new HostdMetrics({
    states: () => sandboxes.lifecycleView(Date.now()).map((s) => s.state),
    maxSandboxes: cfg.maxSandboxes,
    pool: () => pool.stats(),
    usage: () => usage.owners().map((owner) => sandboxes.usageOf(owner)),
    poolRoot: storage.root,
    cleanerBacklog: storage.driver === "btrfs" ? () => deletedSubvolumes(storage.root) : undefined,
    networkRules: network ? () => network.ruleCount() : undefined,
    mcpCallsWaiting: () => mcp.callsWaiting(),
  });
  for (const op of ["create", "exec", "fork"] as const) timeMethod(sandboxes, op, op, metrics);
  for (const op of ["freeze", "resume"] as const) timeMethod(spaces, op, op, metrics);

  setBodyBudget(new BodyBudget(cfg.http.bodyMbPerKey * 1024 * 1024, cfg.http.bodyMb * 1024 * 1024));
  const rate = cfg.http.requestsPerSecondPerKey;
  setRequestPacer(rate > 0 ? new RequestPacer(rate, 2 * rate) : undefined);
  const calls = new OpenCalls();
  const revocations = new Revocations({
    revokedIds: () => keyStore.revokedIds(),
    calls,
    closeSandboxesOf: (owner) => closeSandboxesOf(sandboxes, owner, log),
    log,
    everyMs: REVOCATION_SWEEP_MS,
  });
  revocations.start();
  sandboxes.ownerRevoked = (owner) => revocations.isRevoked(owner);
  const proxy = new PortProxy(cfg, sandboxes, auth, log, calls);
  const pty = new PtyServer(cfg, sandboxes, auth, log, calls);
  const removeSafetyNet = installSafetyNet({ log });
  const mcp = new LazyMcp({ ...cfg.mcp, regionTag: cfg.regionTag }, log);
  const sandboxMetrics = { cgroups, diskUsageBytes: (key: string) => storage.diskUsageBytes(key) };
  const routes = [...mcpRoutes(mcp), ...buildRoutes(cfg, sandboxes, keyStore, keyGuard, spaces, pool, proxy, { metrics, sandboxMetrics }, usageHistory, (id, by) => revocations.revoked(id, by))];
  const e2b = createE2bHandler({ api: new LocalApi(routes, auth, log, { exec: execCall(cfg, sandboxes), create: createCall(cfg, sandboxes) }), stateDir: cfg.stateDir, templateMap: cfg.e2bTemplates, log, calls });
  const server = createApiServer(
    routes,
    auth, log, (req, socket, head) => proxy.handleUpgrade(req, socket, head) || pty.handleUpgrade(req, socket, head), cfg.http, requestObserver(log, metrics), e2b, calls,
  );
  await listen(server, cfg.addr, "PODFLARE_HOSTD_ADDR");
  const metricsServer = cfg.metricsAddr ? createMetricsServer(metrics, log) : null;
  if (metricsServer && cfg.metricsAddr) {
    await listen(metricsServer, cfg.metricsAddr, "PODFLARE_METRICS_ADDR");
    log(`metrics: GET /metrics without auth on ${cfg.metricsAddr.host}:${cfg.metricsAddr.port} (PODFLARE_METRICS_ADDR)`);
  }
  const host = cfg.addr.host.includes(":") ? `[${cfg.addr.host}]` : cfg.addr.host;
  const url = `http://${host}:${cfg.addr.port}`;

  return {
    url,
    sandboxes,
    async close() {
      await mcp.closeAll(); // sessions end with hostd; their sandboxes close while the API still serves
      sandboxes.beginStop(); // execs cut off by the stop run on in their sandboxes
      // Creates and forks under way finish and are answered before connections are cut.
      await server.drain(SHUTDOWN_DRAIN_MS);
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        metricsServer?.close();
        metricsServer?.closeAllConnections();
        proxy.closeAll(); // upgraded (WebSocket) sockets are not the server's any more
        pty.closeAll();
      });
      removeSafetyNet();
      revocations.stop();
      reaper.stop();
      usageHistory.stop();
      await pool.stop();
      sandboxes.detachAll();
      await runtime.settle();
      await network?.stop();
      if (cfg.cgroupFavorDynmods) releaseDynamicMods(cfg.stateDir);
      store.close();
      stateLock.release();
    },
  };
}

/** A revoked key's sandboxes: nobody can reach them any more, so none is left running. */
async function closeSandboxesOf(sandboxes: SandboxManager, owner: string, log: (msg: string) => void): Promise<number> {
  const ids = sandboxes.list(owner).map((s) => s.id);
  for (const id of ids) {
    await sandboxes.delete(owner, id).catch((err: unknown) => log(`closing sandbox ${id} of revoked key ${owner} failed: ${(err as Error).message}`));
  }
  return ids.length;
}
