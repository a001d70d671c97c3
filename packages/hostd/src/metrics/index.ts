// Metrics: the Prometheus registry, hostd's metric set, and per-sandbox readings.
export { Registry, Counter, Gauge, Histogram, SECONDS_BUCKETS, type Labels } from "./registry.js";
export { HostdMetrics, type MetricSources, type OpName } from "./hostd-metrics.js";
export { timeMethod } from "./instrument.js";
export { deletedSubvolumes } from "./btrfs-backlog.js";
export { readSandboxMetrics, type SandboxMetricsSource } from "./sandbox-metrics.js";
export { routeLabel } from "./route-label.js";
