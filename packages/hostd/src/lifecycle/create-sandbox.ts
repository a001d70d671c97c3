// A sandbox's creation once its concurrency slot is held: the template check, limits after the
// tier, the record, and a warm-pool hit or a cold start.
import { PodflareError, type CreateSandboxRequest, type CreateSandboxResponse } from "@podflare/protocol";
import type { TierName } from "../auth/tiers.js";
import type { SandboxRecord } from "../store/store.js";
import { applyLimits, networkOf } from "./create-request.js";
import { newSandboxId, tenantOf } from "./live-sandboxes.js";
import type { ManagerParts } from "./manager-parts.js";
import { setHandle } from "./runtime-handle.js";
import type { WarmPool } from "./warm-pool.js";

export interface TemplateCatalog {
  has(name: string): Promise<boolean> | boolean;
}

export async function createSandbox(
  p: ManagerParts,
  templates: TemplateCatalog,
  pool: WarmPool | undefined,
  owner: string,
  req: CreateSandboxRequest,
  tierName: TierName,
  from: { space?: string },
): Promise<CreateSandboxResponse> {
  const template = req.template ?? p.cfg.defaultTemplate;
  if (!(await templates.has(template))) {
    throw new PodflareError(
      "template_not_found",
      `template ${JSON.stringify(template)} does not exist on this host; build it with \`podflare template build ${template}\``,
    );
  }
  const { applied, clamped, warnings } = applyLimits(req, tierName, p.cfg);
  const network = networkOf(req, p.cfg.network !== null);
  const id = newSandboxId(p.cfg.regionTag);
  const now = p.clock.now();
  const record: SandboxRecord = {
    id,
    owner,
    template,
    state: "creating",
    parentId: null,
    applied,
    metadata: req.metadata ?? {},
    env: req.env ?? {},
    initPid: null,
    initStartTime: null,
    runtimeKey: id,
    familyId: null,
    familyPid: null,
    familyStartTime: null,
    outerFamily: null,
    forkedFrom: null,
    pausedByCall: false,
    network,
    createdAt: now,
    lastActiveAt: now,
  };
  // A pool hit keeps the pooled sandbox's id, which is also its hostname inside.
  const pooled = from.space ? null : (pool?.take(template, applied, record.env) ?? null);
  if (pooled) {
    record.id = record.runtimeKey = pooled.id;
    // Joining the owner's share of the pool is a jail-helper call (~2.5 ms, measured): made
    // after the answer, not before it. What the sandbox writes meanwhile is carried into the
    // share when it joins (simple quotas), and its own disk_mb holds all along.
    p.runtime.claimFor?.(pooled, tenantOf(owner)).catch((err: unknown) => {
      if (err instanceof PodflareError && err.code === "sandbox_not_found") return; // closed meanwhile
      p.log(`WARNING: sandbox ${pooled.id} could not join its owner's share of the storage pool: ${(err as Error).message}`);
    });
    // Pooled sandboxes have egress with an open policy; anything else is set now.
    if (!applied.egress || network) {
      await p.runtime.setNetwork(pooled, p.live.specOf(record).network!).catch(async (err: unknown) => {
        await pooled.destroy().catch(() => undefined);
        throw err;
      });
    }
  }
  const rt = pooled ?? (await p.runtime.create({ ...p.live.specOf(record), fromSpace: from.space }));
  record.state = "ready";
  setHandle(record, rt);
  p.store.insert(record);
  p.live.track(record, rt);
  p.usage?.sandboxCreated(owner);
  return { id: record.id, state: "ready", template, applied, clamped, warnings };
}
