// Validation of the names storage turns into paths. Nothing reaches the filesystem
// before passing through here.

import { PodflareError, sandboxIdPattern } from "@podflare/protocol";

const templateNamePattern = /^[a-z0-9][a-z0-9_-]{0,62}$/;

/** An id a caller sent, quoted in a message clipped to 64 characters (a path may carry 16 KiB). */
export function clipId(id: string): string {
  return id.length > 64 ? `${id.slice(0, 64)}… (${id.length} characters)` : id;
}

export function assertSandboxId(id: string): void {
  if (typeof id !== "string" || !sandboxIdPattern.test(id)) {
    throw new PodflareError("bad_request", `invalid sandbox id ${JSON.stringify(id)}: expected sbx_ and 32 lowercase hex digits`);
  }
}

const SPACE_ID = /^spc_[0-9a-f]{32}$/;

export function isSpaceId(id: string): boolean {
  return SPACE_ID.test(id);
}

export function assertSpaceId(id: string): void {
  if (!isSpaceId(id)) throw new PodflareError("bad_request", `invalid space id ${JSON.stringify(id)}`);
}

export function isSandboxId(id: string): boolean {
  return sandboxIdPattern.test(id);
}

export function assertTemplateName(name: string): void {
  if (typeof name !== "string" || !templateNamePattern.test(name)) {
    throw new PodflareError(
      "template_not_found",
      `invalid template name ${JSON.stringify(name)}: use lowercase letters, digits, '-' and '_'`,
    );
  }
}

export function isTemplateName(name: string): boolean {
  return templateNamePattern.test(name);
}

/** A short random suffix for staging names. */
export function tmpSuffix(): string {
  return `${process.pid}-${Math.random().toString(16).slice(2, 10)}`;
}
