// Each attached sandbox's egress rules in the router's nftables table: applied in one
// transaction for many sandboxes, told to the DNS forwarder, and removed in delayed batches
// (nftables deletions wait for an RCU grace period, ~18 ms a commit here).
import { nft } from "./commands.js";
import type { DnsMessage, DnsPolicy } from "./dns-types.js";
import { chainNames, renderPolicy, renderPolicyRemoval, type EgressPolicy } from "./policy.js";
import { ROUTER_TABLE } from "./rulesets.js";

const CLEANUP_DELAY_MS = 250;

export interface SandboxRuleItem {
  key: string;
  link: string;
  ip: string;
  policy: EgressPolicy;
}

function dnsPolicy(key: string, ip: string, p: EgressPolicy): DnsPolicy {
  return { ip, key, allowDomains: p.allowDomains, denyDomains: p.denyDomains, namesRestricted: p.allowCidrs !== null };
}

export class SandboxRules {
  /** Policies of the sandboxes whose rules are in place (the drift check's list). */
  readonly policies = new Map<string, EgressPolicy>();
  /** Rules of detached sandboxes, removed in batches (see NetworkService.detach). */
  private readonly pendingCleanup = new Map<string, { link: string; ip: string }>();
  private inFlight = new Set<string>();
  private cleaning: Promise<void> = Promise.resolve();
  private cleanupTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly netns: string,
    private readonly sendDns: (m: DnsMessage) => void,
    private readonly log: (msg: string) => void,
  ) {}

  async apply(items: SandboxRuleItem[]): Promise<void> {
    // A removal still queued for these keys (egress turned off, then on) must not undo the new
    // rules; but what it was to remove goes now when the sandbox comes back with another address
    // (or link): that address may already be another sandbox's, and `bound` must not let this
    // sandbox send from it.
    const stale = new Map<string, { link: string; ip: string }>();
    for (const { key, link, ip } of items) {
      const pending = this.pendingCleanup.get(key);
      if (!pending) continue;
      this.pendingCleanup.delete(key);
      if (pending.ip !== ip || pending.link !== link) stale.set(key, pending);
    }
    if (items.some(({ key }) => this.inFlight.has(key))) await this.cleaning;
    if (stale.size > 0) await this.remove(stale);
    await nft(this.netns, items.map(({ key, link, ip, policy }) => [
      renderPolicy(ROUTER_TABLE, key, policy),
      `add element ${ROUTER_TABLE} bound { "${link}" . ${ip} }`,
      `add element ${ROUTER_TABLE} egress { "${link}" : jump ${chainNames(key).chain} }`,
      "",
    ].join("\n")).join(""));
    for (const { key, ip, policy } of items) {
      this.policies.set(key, policy);
      this.sendDns({ type: "policy", policy: dnsPolicy(key, ip, policy) });
    }
  }

  /** Queues the removal of a detached sandbox's rules for the next batch. */
  queueRemoval(key: string, link: string, ip: string): void {
    this.sendDns({ type: "forget", ip });
    this.pendingCleanup.set(key, { link, ip });
    this.cleanupTimer ??= setTimeout(() => {
      this.cleanupTimer = undefined;
      void this.flush().catch((e: Error) => this.log(`network: rule cleanup failed: ${e.message}`));
    }, CLEANUP_DELAY_MS);
  }

  /** Runs the queued rule removals now. */
  async flush(): Promise<void> {
    clearTimeout(this.cleanupTimer);
    this.cleanupTimer = undefined;
    await this.cleaning;
    if (this.pendingCleanup.size === 0) return;
    const batch = new Map(this.pendingCleanup);
    this.pendingCleanup.clear();
    this.cleaning = this.remove(batch).finally(() => {
      this.cleaning = Promise.resolve();
      this.inFlight = new Set();
    });
    this.inFlight = new Set(batch.keys());
    await this.cleaning;
  }

  private async remove(batch: Map<string, { link: string; ip: string }>): Promise<void> {
    const lines: string[] = [];
    for (const [key, { link, ip }] of batch) {
      lines.push(`delete element ${ROUTER_TABLE} egress { "${link}" }`, `delete element ${ROUTER_TABLE} bound { "${link}" . ${ip} }`);
      lines.push(...renderPolicyRemoval(ROUTER_TABLE, key).split("\n").filter(Boolean));
    }
    // One batch is atomic: if a piece is already gone, remove the rest one by one.
    await nft(this.netns, lines.join("\n") + "\n").catch(async () => {
      for (const line of lines) await nft(this.netns, line + "\n").catch(() => undefined);
    });
  }

  /** Keys whose rules are queued for removal or being removed (not stale: about to go). */
  removing(): Set<string> {
    return new Set([...this.pendingCleanup.keys(), ...this.inFlight]);
  }

  /** Tells a restarted DNS forwarder every sandbox's policy again. */
  resendPolicies(addressOf: (key: string) => string | null): void {
    for (const [key, p] of this.policies) {
      const ip = addressOf(key);
      if (ip) this.sendDns({ type: "policy", policy: dnsPolicy(key, ip, p) });
    }
  }
}
