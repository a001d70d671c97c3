// The hosted service's published figures (measured by its makers over the internet, not here),
// each beside the rows of a run that measure the same thing. Reference only: different hardware,
// different network, server-side vs end to end.
export const HOSTED = [
  { figure: "pool-hit create", published: "6 ms server-side", stat: "p50", rows: ["core / pool-hit create, TypeScript SDK", "core / pool-hit create, Python SDK"] },
  { figure: "create → run → close, full cycle, p50", published: "43 ms in-cloud", stat: "p50", rows: ["core / create → echo ready (bash) → close, TS SDK", "core / create → echo ready (bash) → close, Py SDK"] },
  { figure: "create → run → close, full cycle, p99", published: "188 ms in-cloud", stat: "p99", rows: ["core / create → echo ready (bash) → close, TS SDK", "core / create → echo ready (bash) → close, Py SDK"] },
  { figure: "fork(5) of a fresh sandbox", published: "~100 ms server-side", stat: "p50", rows: ["fork / fresh: fork(5), TS SDK", "fork / fresh: fork(5), Python SDK"] },
];

/** The hosted figures with ours from `results` ({figure, published, stat, ours: [{row, value}]}). */
export function hostedBeside(results) {
  const find = (key) => {
    const [bench, ...rest] = key.split(" / ");
    return results.benches?.[bench]?.rows?.find((r) => r.name === rest.join(" / "));
  };
  return HOSTED.map((h) => ({ ...h, ours: h.rows.map((k) => ({ row: k, value: find(k)?.stats?.[h.stat] ?? null })) }));
}
