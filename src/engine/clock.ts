/** Time source, injectable so tests can move time (stash TTLs, URN expiry, leases). */
export interface Clock {
  now(): number
}

export const systemClock: Clock = { now: () => Date.now() }

export const iso = (ms: number) => new Date(ms).toISOString()
