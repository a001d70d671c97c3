// hostd: wires storage, the jail, the runtime, the metadata store and the REST API together.
import type http from "node:http";
import { createAuthenticator } from "./auth/auth.js";
import { buildRoutes } from "./api/routes.js";
import { createApiServer } from "./api/server.js";
import { isLoopback, type HostdConfig } from "./config.js";
import { CgroupManager } from "./jail/index.js";
import { SandboxManager } from "./lifecycle/sandbox-manager.js";
import { NsRuntime } from "./runtime/ns/ns-runtime.js";
import { checkHost } from "./host-check.js";
import { openDb } from "./store/db.js";
import { SandboxStore } from "./store/sandboxes.js";
import { createStoragePool, createTemplateManager, type ProgressEvent } from "./storage/index.js";

export interface Hostd {
  readonly url: string;
  readonly sandboxes: SandboxManager;
  /** Stops serving; sandboxes keep running and are re-adopted by the next start. */
  close(): Promise<void>;
}

export interface StartOptions {
  log?: (msg: string) => void;
  onTemplateProgress?: (template: string, event: ProgressEvent) => void;
}

export async function startHostd(cfg: HostdConfig, opts: StartOptions = {}): Promise<Hostd> {
  const log = opts.log ?? ((msg: string) => process.stderr.write(`hostd: ${msg}\n`));
  checkHost();

  const authEnabled = cfg.apiKeys.length > 0 && !cfg.authDisabled;
  if (!authEnabled && !isLoopback(cfg.addr.host)) {
    if (!cfg.authDisabled) {
      throw new Error(
        `refusing to listen on ${cfg.addr.host} without API keys: set PODFLARE_API_KEYS, ` +
          `or PODFLARE_AUTH_DISABLED=1 if the network in front of this host is trusted`,
      );
    }
    log(`WARNING: auth is disabled and the API listens on ${cfg.addr.host}: anyone who can reach it runs code here`);
  }

  const storage = await createStoragePool({
    stateDir: cfg.stateDir,
    driver: cfg.storageDriver,
    poolSizeGb: cfg.poolSizeGb,
    log,
  });
  const templates = createTemplateManager({ pool: storage, cacheDir: cfg.templateCacheDir, uidBase: cfg.uidBase, log });
  for (const name of cfg.ensureTemplates) {
    await templates.ensureTemplate(name, { onProgress: (e) => opts.onTemplateProgress?.(name, e) });
  }

  const cgroups = new CgroupManager({ parent: cfg.cgroupParent });
  const db = openDb(cfg.stateDir);
  const store = new SandboxStore(db);
  const runtime = new NsRuntime({ stateDir: cfg.stateDir, storage, cgroups, uidBase: cfg.uidBase, uidCount: cfg.uidCount, log });
  const sandboxes = new SandboxManager(cfg, store, runtime, { has: (name) => storage.hasTemplate(name) }, log);
  const { adopted, removed } = await sandboxes.start();
  if (adopted.length) log(`re-adopted ${adopted.length} running sandbox(es)`);
  if (removed.length) log(`removed leftovers of ${removed.length} sandbox(es) from an earlier run`);

  const auth = createAuthenticator(cfg.apiKeys, authEnabled);
  const server = createApiServer(buildRoutes(cfg, sandboxes), auth, log);
  await listen(server, cfg.addr.host, cfg.addr.port);
  const host = cfg.addr.host.includes(":") ? `[${cfg.addr.host}]` : cfg.addr.host;
  const url = `http://${host}:${cfg.addr.port}`;

  return {
    url,
    sandboxes,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      sandboxes.detachAll();
      db.close();
    },
  };
}

function listen(server: http.Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", (err: NodeJS.ErrnoException) => {
      if (err.code === "EADDRINUSE") {
        reject(new Error(`${host}:${port} is already in use: is another hostd running? Set PODFLARE_HOSTD_ADDR to move`));
      } else reject(err);
    });
    server.listen(port, host, () => resolve());
  });
}
