// The E2B SDKs pointed at a hostd by environment only, as docs/e2b.md tells users to.
import { hostdUrl } from "../support/api.js";

/** Sets E2B_API_URL, E2B_SANDBOX_URL and E2B_API_KEY for the SDKs (read on every call). */
export function pointE2bAt(url = hostdUrl(), key = "any-key-while-auth-is-off"): void {
  process.env.E2B_API_URL = url;
  process.env.E2B_SANDBOX_URL = url;
  process.env.E2B_API_KEY = key;
  delete process.env.E2B_DOMAIN;
  delete process.env.E2B_DEBUG;
}

/** Kills what a test file made, whatever state it is in. */
export class Made {
  private readonly kills: (() => Promise<unknown>)[] = [];
  track<T extends { kill(): Promise<unknown> }>(sbx: T): T {
    this.kills.push(() => sbx.kill());
    return sbx;
  }
  async killAll(): Promise<void> {
    await Promise.allSettled(this.kills.splice(0).map((k) => k()));
  }
}
