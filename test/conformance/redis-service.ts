import { unreachable } from '../harness/net.js'

/**
 * The Redis server of the machine for the conformance suites (limiter, notifications). Without it
 * the Redis variants are skipped with the reason printed, unless WAGATE_TEST_REQUIRE_SERVICES is
 * set (CI), where a missing server fails the run.
 *
 * @example
 * describe.skipIf(redisSkipped)('on Redis', () => { beforeAll(() => assertRedis()) … })
 */
export const REDIS_URL = process.env.WAGATE_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'
export const REQUIRED = Boolean(process.env.WAGATE_TEST_REQUIRE_SERVICES)


export const redisDown = await unreachable(REDIS_URL, 6379)
/** True when the Redis suites are skipped (no server, and not required). */
export const redisSkipped = Boolean(redisDown) && !REQUIRED

export function warnIfSkipped(suite: string) {
  if (redisSkipped) console.warn(`[conformance] skipping ${suite} on Redis: ${redisDown} (set WAGATE_TEST_REQUIRE_SERVICES to make this a failure)`)
}

/** In a required run, a missing server fails the suite's setup. */
export function assertRedis() {
  if (redisDown) throw new Error(`WAGATE_TEST_REQUIRE_SERVICES is set but ${redisDown}`)
}
