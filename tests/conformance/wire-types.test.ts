// Compile-time check that the wire types generated into the TypeScript SDK (packages/sdk/src/
// generated/protocol.ts, re-exported by wire.ts) equal packages/protocol's: if they drift,
// `tsc -b` fails on this file.

import assert from "node:assert/strict";
import { test } from "node:test";
import type * as protocol from "@podflare/protocol";
import type { ExecEvent, wire } from "podflare";

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;

const checks: [
  Equal<wire.Language, protocol.Language>,
  Equal<wire.SandboxState, protocol.SandboxState>,
  Equal<wire.CreateSandboxRequest, protocol.CreateSandboxRequest>,
  Equal<wire.AppliedLimits, protocol.AppliedLimits>,
  Equal<wire.CreateSandboxResponse, protocol.CreateSandboxResponse>,
  Equal<wire.SandboxInfo, protocol.SandboxInfo>,
  Equal<wire.ListSandboxesResponse, protocol.ListSandboxesResponse>,
  Equal<wire.ExecRequest, protocol.ExecRequest>,
  Equal<wire.FileEntry, protocol.FileEntry>,
  Equal<wire.DirListing, protocol.DirListing>,
  Equal<ExecEvent, protocol.ExecEvent>,
  Equal<wire.NetworkPolicy, protocol.NetworkPolicy>,
  Equal<wire.SetNetworkRequest, protocol.SetNetworkRequest>,
  Equal<wire.NetworkInfo, protocol.NetworkInfo>,
  Equal<wire.ForkResponse, protocol.ForkResponse>,
  Equal<wire.SpaceInfo, protocol.SpaceInfo>,
  Equal<wire.ResumeSpaceResponse, protocol.ResumeSpaceResponse>,
  Equal<wire.KeyInfo, protocol.KeyInfo>,
  Equal<wire.CreateKeyResponse, protocol.CreateKeyResponse>,
  Equal<wire.CapacityResponse, protocol.CapacityResponse>,
  Equal<wire.UsageReport, protocol.UsageReport>,
  Equal<wire.ErrorBody, protocol.ErrorBody>,
  Equal<wire.ContextInfo, protocol.ContextInfo>,
  Equal<wire.CreateContextRequest, protocol.CreateContextRequest>,
  Equal<wire.ListContextsResponse, protocol.ListContextsResponse>,
  Equal<wire.SandboxMetrics, protocol.SandboxMetrics>,
] = [true, true, true, true, true, true, true, true, true, true, true, true, true, true, true, true, true, true, true, true, true, true, true, true, true, true];

test("the SDK's wire types equal packages/protocol's (checked by the compiler)", () => {
  assert.ok(checks.every(Boolean));
});
