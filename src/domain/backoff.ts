/**
 * Retry delays for retryable send errors: exponential with "equal jitter" (half fixed, half random)
 * so that a burst of failures does not come back as a burst. Pure; the caller passes the random.
 *
 * @example
 * retryDelayMs(3, { baseMs: 1000, maxMs: 60_000 }, () => 0.5) // 3000
 */
export interface BackoffPolicy {
  baseMs: number
  maxMs: number
}

export function retryDelayMs(attempt: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const exp = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, attempt - 1))
  return Math.round(exp / 2 + (exp / 2) * random())
}

/** A provider's Retry-After hint wins when it asks for longer than our own schedule. */
export function delayWithHint(ownMs: number, hintMs: number | undefined, maxMs: number): number {
  if (hintMs === undefined || !Number.isFinite(hintMs) || hintMs <= 0) return ownMs
  return Math.min(maxMs, Math.max(ownMs, hintMs))
}
