// `podflare edge`: the multi-region front door in the foreground (docs/edge.md).
import { loadEdgeConfig, startEdge } from "@podflare/edge";
import { parseOrHelp, type CommandSpec } from "./args.js";

const edgeSpec: CommandSpec = {
  usage: `usage: podflare edge [--region NAME=URL]... [--config FILE.json]

  Routes the API over several regions (hostds with PODFLARE_REGION): creates to the named or
  nearest healthy region, every id to the region that made it. Regions also from
  PODFLARE_REGIONS=us-west=http://…,eu=http://…; listens on PODFLARE_EDGE_ADDR (default
  127.0.0.1:7080); probes each region every PODFLARE_EDGE_PROBE_MS (default 2000).`,
  options: [{ name: "--region", value: "NAME=URL", repeatable: true }, { name: "--config", value: "FILE.json" }],
};

export async function edgeCommand(argv: string[]): Promise<number> {
  const parsed = parseOrHelp(edgeSpec, argv);
  if (!parsed) return 0;
  // Handed on in the one spelling the edge package reads (--config=FILE is fine here too).
  const config = parsed.value("--config");
  const cfg = loadEdgeConfig([...parsed.values("--region").flatMap((r) => ["--region", r]), ...(config !== undefined ? ["--config", config] : [])]);
  const edge = await startEdge(cfg, { accessLog: process.env.PODFLARE_EDGE_ACCESS_LOG === "1" });
  console.log(`podflare edge listening on ${edge.url} (regions: ${cfg.regions.map((r) => r.name).join(", ")})`);
  await new Promise<void>((resolve) => {
    process.once("SIGINT", () => resolve());
    process.once("SIGTERM", () => resolve());
  });
  await edge.close();
  process.exit(0);
}
