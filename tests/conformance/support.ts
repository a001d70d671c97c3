// Shared by the conformance tests: where the repository is, which hostd to talk to.

import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root, found from this file whether it runs from tests/ or tests/dist/. */
export const repoRoot: string = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "tests", "conformance", "cases.json"))) {
    const up = dirname(dir);
    if (up === dir) throw new Error("cannot find the repository root (tests/conformance/cases.json)");
    dir = up;
  }
  return dir;
})();

export interface Step {
  op: string;
  as?: string;
  sandbox?: string;
  id?: string;
  id_of?: string;
  code?: string;
  language?: string;
  timeout_ms?: number;
  options?: Record<string, unknown>;
  path?: string;
  text?: string;
  bytes?: number;
  expect?: Expect;
}

export interface Expect {
  error?: { class?: string; code?: string; status?: number };
  exit_code?: number;
  stdout?: string;
  stderr?: string;
  stdout_contains?: string;
  stderr_contains?: string;
  min_elapsed_ms?: number;
  max_elapsed_ms?: number;
  first_event_within_ms?: number;
  same_as?: string;
  text?: string;
  names_include?: string[];
  id_pattern?: string;
  applied_keys?: string[];
}

export interface Case {
  name: string;
  steps: Step[];
}

/**
 * The hostd under test. Unset is a failure, not a skip: these tests exist to be run
 * against a real server, and the lead's runner sets the variable.
 */
export function hostdUrl(): string {
  const url = process.env["PODFLARE_HOSTD_URL"];
  if (!url) throw new Error("PODFLARE_HOSTD_URL is not set: the conformance tests need a running hostd (e.g. http://127.0.0.1:7070)");
  return url.replace(/\/+$/, "");
}

/** Fails unless GET /v1/healthz answers 200 within 5 s. */
export async function assertReachable(url: string): Promise<void> {
  let res: Response;
  try {
    res = await fetch(`${url}/v1/healthz`, { signal: AbortSignal.timeout(5000) });
  } catch (err) {
    throw new Error(`hostd at ${url} is unreachable: ${(err as Error).message}`);
  }
  if (res.status !== 200) throw new Error(`GET ${url}/v1/healthz answered ${res.status}`);
}
