/**
 * The webhook retry schedule (DESIGN §10): after a failed attempt the delivery waits the next
 * interval of the list, then tries again; past the end of the list it has failed for good. The
 * default retries immediately, then after 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h (nine
 * attempts spread over about 28 hours). Pure.
 *
 * Set `WAGATE_DELIVERY_SCHEDULE_MS` to a comma list of milliseconds to change it (tests shrink it
 * to a few tens of milliseconds).
 *
 * @example
 * parseSchedule('0,50,100') // [0, 50, 100]
 * retryDelay([0, 5000], 1)  // 5000 (wait before the second retry)
 * retryDelay([0, 5000], 2)  // undefined (the schedule is spent)
 */
export const DEFAULT_SCHEDULE_MS: readonly number[] = [0, 5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000]

const MAX_INTERVAL_MS = 7 * 24 * 3600 * 1000

export function parseSchedule(text: string): number[] {
  const parts = text.split(',').map((p) => p.trim())
  if (parts.length === 0 || parts.length > 50 || parts.some((p) => !/^\d{1,12}$/.test(p))) {
    throw new Error(`WAGATE_DELIVERY_SCHEDULE_MS: expected a comma list of 1 to 50 whole milliseconds like "0,5000,300000" (got "${text}")`)
  }
  const values = parts.map(Number)
  if (values.some((v) => v > MAX_INTERVAL_MS)) throw new Error('WAGATE_DELIVERY_SCHEDULE_MS: an interval is longer than 7 days')
  return values
}

/** The schedule from the environment when set there, else the default. */
export function scheduleFromEnv(env: Record<string, string | undefined>): number[] {
  const text = env.WAGATE_DELIVERY_SCHEDULE_MS?.trim()
  return text ? parseSchedule(text) : [...DEFAULT_SCHEDULE_MS]
}

/** Wait before retry number `retryIndex + 1`; undefined once the schedule is spent. */
export function retryDelay(schedule: readonly number[], retryIndex: number): number | undefined {
  return retryIndex >= 0 && retryIndex < schedule.length ? schedule[retryIndex] : undefined
}
