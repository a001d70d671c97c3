// E2B's sandbox shapes made from ours, and E2B template names mapped to ours.
import type { SandboxInfo } from "@podflare/protocol";

/** The envd version we answer as: new enough that the SDK sends no username (>= 0.4.0) and may
 * stream uploads as octet-stream (>= 0.5.7); file metadata (0.6.2) is refused by the SDK itself. */
export const ENVD_VERSION = "0.5.7";
export const CLIENT_ID = "podflare-selfhosted";

/** E2B template → ours. Other names pass through, so our own templates work by name. */
export const DEFAULT_TEMPLATE_MAP: Readonly<Record<string, string>> = {
  base: "default",
  "code-interpreter-v1": "python-datasci",
  "code-interpreter": "python-datasci",
};

/** `PODFLARE_E2B_TEMPLATES="base=default,code-interpreter-v1=python-datasci"` replaces the map. */
export function parseTemplateMap(raw: string | undefined): Record<string, string> {
  if (raw === undefined || raw.trim() === "") return { ...DEFAULT_TEMPLATE_MAP };
  const map: Record<string, string> = {};
  for (const pair of raw.split(",")) {
    const [from, to] = pair.split("=").map((s) => s.trim());
    if (!from || !to) throw new Error(`PODFLARE_E2B_TEMPLATES: ${JSON.stringify(pair)} is not e2bName=ourTemplate`);
    map[from] = to;
  }
  return map;
}

export class Templates {
  constructor(private readonly map: Record<string, string>) {}

  ours(e2bName: string): string {
    return this.map[e2bName] ?? e2bName;
  }

  /** The E2B alias a client knows a template of ours by (the first name mapping to it). */
  alias(ours: string): string {
    return Object.keys(this.map).find((k) => this.map[k] === ours) ?? ours;
  }
}

export type E2bState = "running" | "paused";

export function e2bState(info: SandboxInfo): E2bState {
  return info.state === "paused" ? "paused" : "running";
}

/** When the reaper will close it if nothing happens: the idle deadline, capped by the lifetime. */
export function endAt(info: SandboxInfo): string {
  const idle = Date.parse(info.last_active_at) + info.applied.idle_timeout_s * 1000;
  const a = info.applied;
  const life = Date.parse(info.created_at) + Math.min(a.max_lifetime_s, a.lifetime_s ?? a.max_lifetime_s) * 1000;
  return new Date(Math.min(idle, life)).toISOString();
}

/** E2B's ListedSandbox. */
export function listedSandbox(info: SandboxInfo, templates: Templates): Record<string, unknown> {
  return {
    sandboxID: info.id,
    templateID: info.template,
    alias: templates.alias(info.template),
    clientID: CLIENT_ID,
    startedAt: info.created_at,
    endAt: endAt(info),
    cpuCount: info.applied.vcpus,
    memoryMB: info.applied.memory_mb,
    diskSizeMB: info.applied.disk_mb,
    metadata: info.metadata,
    state: e2bState(info),
    envdVersion: ENVD_VERSION,
  };
}

/** E2B's SandboxDetail: the listed fields plus what a client needs to reach the sandbox. */
export function sandboxDetail(info: SandboxInfo, templates: Templates, token: string): Record<string, unknown> {
  return {
    ...listedSandbox(info, templates),
    envdAccessToken: token,
    domain: null,
    allowInternetAccess: info.network.egress,
    network: e2bNetworkOf(info.network),
  };
}

/** E2B's Sandbox (the answer of create, connect, resume and each fork child). */
export function sandboxAnswer(id: string, template: string, templates: Templates, token: string): Record<string, unknown> {
  return {
    sandboxID: id,
    templateID: template,
    alias: templates.alias(template),
    clientID: CLIENT_ID,
    envdVersion: ENVD_VERSION,
    envdAccessToken: token,
    trafficAccessToken: token,
    domain: null,
  };
}

/** Our egress policy as E2B names it (network-policy.ts the other way); undefined when open. */
function e2bNetworkOf(n: SandboxInfo["network"]): { allowOut?: string[]; denyOut?: string[] } | undefined {
  if (n.allow_out !== null) return { allowOut: n.allow_out, denyOut: ["0.0.0.0/0", ...n.deny_out] };
  return n.deny_out.length > 0 ? { denyOut: n.deny_out } : undefined;
}
