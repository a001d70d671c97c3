// Iteration counts of every bench in one place. PODFLARE_BENCH_QUICK=1 shrinks them all for a
// smoke run (a few minutes: the figures are too few to quote); each PODFLARE_BENCH_* variable
// below still overrides its own count in either mode.
const quick = process.env.PODFLARE_BENCH_QUICK === "1";
const num = (name, full, smoke) => {
  const v = process.env[name];
  if (v === undefined || v === "") return quick ? smoke : full;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name}=${v}: give a whole number of at least 1`);
  return n;
};

export const knobs = {
  quick,
  /** core: hot-exec samples and create → echo → close cycles (creates take a fifth, at least 20). */
  coreRuns: num("PODFLARE_BENCH_CORE_RUNS", 100, 20),
  createRuns: num("PODFLARE_BENCH_CREATE_RUNS", 20, 8),
  clients: num("PODFLARE_BENCH_CLIENTS", 20, 20),
  cyclesEach: num("PODFLARE_BENCH_CYCLES", 5, 2),
  forkRuns: num("PODFLARE_BENCH_FORK_RUNS", 20, 3),
  forkSizes: (process.env.PODFLARE_BENCH_FORK_SIZES ?? "1,2,5,16,32").split(",").map(Number),
  lifecycleRuns: num("PODFLARE_BENCH_LIFECYCLE_RUNS", 5, 2),
  pauseRuns: num("PODFLARE_BENCH_PAUSE_RUNS", 20, 5),
  densityCount: num("PODFLARE_BENCH_DENSITY", 40, 8),
  /** network: cold creates with and without egress, and policy changes. */
  networkRuns: num("PODFLARE_BENCH_NETWORK_RUNS", 20, 5),
  /** soak (run only when named in PODFLARE_BENCHES): seconds of steady load. */
  soakS: num("PODFLARE_SOAK_S", 600, 60),
  /** soak: seconds of the same load first, whose figures are the baseline of the end's. */
  soakWarmupS: num("PODFLARE_SOAK_WARMUP_S", 120, 15),
  /** limits: neighbour execs around a fork bomb, jail launches, SDK calls (×10) vs a stand-in. */
  limitsRuns: num("PODFLARE_BENCH_LIMITS_RUNS", 20, 5),
  /** tenants: seconds of each noisy neighbour (churn, output flood), half that quiet. */
  tenantsS: num("PODFLARE_BENCH_TENANTS_S", 20, 6),
  /** edge: hot execs and small calls each way (direct, through the edge), and pool-hit creates. */
  edgeRuns: num("PODFLARE_BENCH_EDGE_RUNS", 300, 50),
  edgeCreateRuns: num("PODFLARE_BENCH_EDGE_CREATE_RUNS", 100, 8),
};
