// Wire shapes of the REST API (snake_case), generated from packages/protocol into
// generated/protocol.ts (this package is published alone). The SDK surface (types.ts) is camelCase.
export type * from "./generated/protocol.js";
export { ExitCode } from "./generated/protocol.js";
