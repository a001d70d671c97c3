// Which HTTP MCP sessions have been idle too long. Pure, so the rule is tested without timers.

export interface IdleCandidate {
  id: string;
  /** When the last request on the session ended (or began, while one runs), ms. */
  lastActiveMs: number;
  /** Requests on the session still being answered: a long tool call is not idleness. */
  inFlight: number;
}

export function idleSessions(sessions: Iterable<IdleCandidate>, nowMs: number, idleTimeoutMs: number): string[] {
  const out: string[] = [];
  for (const s of sessions) if (s.inFlight === 0 && nowMs - s.lastActiveMs >= idleTimeoutMs) out.push(s.id);
  return out;
}

/** How often to look: often enough that a session ends within ~1/4 of its timeout late. */
export function sweepPeriodMs(idleTimeoutMs: number): number {
  return Math.min(30_000, Math.max(100, Math.floor(idleTimeoutMs / 4)));
}
