/**
 * Generic cell rate algorithm (GCRA): a token bucket held as one number, the theoretical arrival
 * time. With `burst` 1 sends are evenly spaced at 1/rate, so no one-second window ever holds more
 * than `rate` sends. Pure; the store of `tat` values lives at the edge (memory or Redis).
 *
 * @example
 * const r = gcra(undefined, 1000, { ratePerSec: 80, burst: 1 }) // { allowed: true, waitMs: 0, tat: 1012.5 }
 */
export interface RateSpec {
  ratePerSec: number
  burst: number
}

export interface GcraResult {
  allowed: boolean
  /** When not allowed: how long until it would be. */
  waitMs: number
  /** The new theoretical arrival time to store (unchanged when not allowed). */
  tat: number
}

export function gcra(tat: number | undefined, now: number, spec: RateSpec): GcraResult {
  // Rounded up to a 1/1024 ms step: sums of such values are exact, so `tat` does not drift below
  // the true schedule (1000/90 added 90 times is 999.9999…, which let a 91st send into the second).
  const interval = Math.ceil((1000 / spec.ratePerSec) * 1024) / 1024
  const tolerance = interval * (Math.max(1, spec.burst) - 1)
  const current = Math.max(tat ?? now, now)
  const allowAt = current - tolerance
  if (now < allowAt) return { allowed: false, waitMs: allowAt - now, tat: current }
  return { allowed: true, waitMs: 0, tat: current + interval }
}
