// The DNS forwarder, run by hostd inside the router namespace (`nsenter --net`), listening on
// the gateway address. Names in the static map are answered here; others go to the upstream
// resolvers, if any are configured (never in tests). When a sandbox whose policy names a
// domain looks it up, the answer's addresses are added to that sandbox's allow (or deny) set
// before the answer leaves, so `allow_out: ["pypi.org"]` admits what pypi.org resolves to.
// A sandbox with an allow list gets answers for its allowed names only (NXDOMAIN for the rest,
// static names included), so DNS queries are no channel out of it; every sandbox's queries
// are rate-limited (REFUSED beyond the limit, never forwarded).
// It exits when hostd goes away (the IPC channel closes).
import dgram from "node:dgram";
import { answerA, answerError, answerRecords, parseQuery, RCODE_NXDOMAIN, RCODE_REFUSED, RCODE_SERVFAIL, TYPE_A, type Question } from "./dns-wire.js";
import { run } from "./commands.js";
import { chainNames, domainMatches } from "./policy.js";
import type { DnsConfig, DnsMessage, DnsPolicy } from "./dns-types.js";
import { RateLimiter } from "./rate-limit.js";

const UPSTREAM_TIMEOUT_MS = 2_000;
const MAX_IN_FLIGHT = 256;
const STATIC_TTL_S = 60;
const MIN_SET_TTL_S = 60;
const MAX_SET_TTL_S = 3_600;

let config: DnsConfig | null = null;
const policies = new Map<string, DnsPolicy>();
let inFlight = 0;
let limiter: RateLimiter | null = null;

function log(msg: string): void {
  process.stderr.write(`dns-forwarder: ${msg}\n`);
}

async function learn(p: DnsPolicy, name: string, records: { addr: string; ttlS: number }[]): Promise<void> {
  if (!config || records.length === 0) return;
  const { allowSet, denySet } = chainNames(p.key);
  const sets: string[] = [];
  if (p.denyDomains.some((d) => domainMatches(name, d))) sets.push(denySet);
  if (p.allowDomains.some((d) => domainMatches(name, d))) sets.push(allowSet);
  if (sets.length === 0) return;
  const elems = records.map((r) => `${r.addr} timeout ${Math.min(MAX_SET_TTL_S, Math.max(MIN_SET_TTL_S, r.ttlS))}s`).join(", ");
  const script = sets.map((s) => `add element ${config!.table} ${s} { ${elems} }`).join("\n") + "\n";
  await run(["nft", "-f", "-"], script).catch((e: Error) => log(`could not update ${sets.join(",")}: ${e.message}`));
}

function askUpstream(query: Buffer, servers: string[]): Promise<Buffer | null> {
  return new Promise((resolve) => {
    const sock = dgram.createSocket("udp4");
    let done = false;
    const finish = (b: Buffer | null) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.close();
      resolve(b);
    };
    const timer = setTimeout(() => finish(null), UPSTREAM_TIMEOUT_MS);
    sock.on("error", () => finish(null));
    sock.on("message", (m) => {
      if (m.length >= 2 && m.readUInt16BE(0) === query.readUInt16BE(0)) finish(m);
    });
    for (const s of servers) sock.send(query, 53, s);
  });
}

async function answer(msg: Buffer, from: string): Promise<Buffer | null> {
  const cfg = config;
  const q: Question | null = parseQuery(msg);
  if (!q) return msg.length >= 12 ? answerError(msg, null, RCODE_REFUSED) : null;
  if (!cfg) return answerError(msg, q, RCODE_SERVFAIL);
  if (limiter && !limiter.take(from)) return answerError(msg, q, RCODE_REFUSED);
  const policy = policies.get(from);
  // Only sandboxes hostd told us about: an address without a policy gets no answer (fail closed).
  if (!policy) return answerError(msg, q, RCODE_REFUSED);
  if (policy.namesRestricted && !policy.allowDomains.some((d) => domainMatches(q.name, d))) {
    return answerError(msg, q, RCODE_NXDOMAIN);
  }
  const fixed = cfg.staticHosts[q.name];
  if (fixed) {
    const addrs = q.type === TYPE_A ? fixed : [];
    await learn(policy, q.name, addrs.map((addr) => ({ addr, ttlS: STATIC_TTL_S })));
    return answerA(msg, q, addrs, STATIC_TTL_S);
  }
  if (cfg.upstream.length === 0) return answerError(msg, q, RCODE_NXDOMAIN);
  if (inFlight >= MAX_IN_FLIGHT) return answerError(msg, q, RCODE_SERVFAIL);
  inFlight++;
  try {
    const reply = await askUpstream(msg, cfg.upstream);
    if (!reply) return answerError(msg, q, RCODE_SERVFAIL);
    await learn(policy, q.name, answerRecords(reply));
    return reply;
  } finally {
    inFlight--;
  }
}

function listen(cfg: DnsConfig): void {
  const sock = dgram.createSocket("udp4");
  sock.on("message", (msg, rinfo) => {
    // A raw socket in a sandbox can send from port 0, where no answer can go (send throws):
    // such a query is dropped, as is any answer the kernel will not send; neither ends the
    // forwarder every sandbox shares.
    if (rinfo.port === 0) return;
    answer(msg, rinfo.address).then(
      (reply) => {
        if (!reply) return;
        try {
          sock.send(reply, rinfo.port, rinfo.address, () => {});
        } catch (e) {
          log(`could not answer ${rinfo.address}:${rinfo.port}: ${(e as Error).message}`);
        }
      },
      (e: Error) => log(`query from ${rinfo.address} failed: ${e.message}`),
    );
  });
  sock.on("error", (e) => {
    log(`socket error: ${e.message}`);
    process.exit(1);
  });
  sock.bind(53, cfg.gateway, () => process.send?.({ type: "ready" }));
}

process.on("message", (m: DnsMessage) => {
  if (m.type === "config") {
    const first = config === null;
    config = m.config;
    limiter = new RateLimiter({ perSecond: m.config.qps, burst: 2 * m.config.qps });
    if (first) listen(m.config);
  } else if (m.type === "policy") {
    policies.set(m.policy.ip, m.policy);
  } else if (m.type === "forget") {
    policies.delete(m.ip);
    limiter?.forget(m.ip);
  }
});
process.on("disconnect", () => process.exit(0));
