// One sandbox as the reaper sees it: the manager produces these, the reaper decides on them.
// Its own module so neither the manager nor the reaper imports the other for it.
export interface LifecycleView {
  id: string;
  owner: string;
  state: string;
  persistent: boolean;
  /** Paused by a call: kept until woken, closed or past max_lifetime_s. */
  pausedByCall: boolean;
  busy: boolean;
  idleMs: number;
  ageMs: number;
  idleTimeoutS: number;
  maxLifetimeS: number;
}
