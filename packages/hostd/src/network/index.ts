// Sandbox networking: router namespace, links, IPAM, egress policy, DNS forwarder.
export { NetworkService, teardownNetwork, linkName, type NetworkConfig } from "./network-service.js";
export { routerNames } from "./router.js";
export { parsePolicy, type EgressPolicy } from "./policy.js";
