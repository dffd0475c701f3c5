import { createHash } from 'node:crypto'
import type { Redis } from 'ioredis'
import type { Logger } from 'pino'
import { RATE_SAFETY, type RateLimiter } from './limiter.js'

/**
 * The rate limiter held in Redis, for several gateway processes sharing their accounts' limits
 * (WAGATE_REDIS_URL). Same semantics as `createMemoryLimiter` — GCRA with burst at RATE_SAFETY of
 * the rate, refusal past `maxWaitMs` without booking, penalties kept apart from the GCRA state —
 * computed by one Lua script per call, so reservations from every process are serialized by Redis.
 * The script reads Redis's own clock (TIME): processes whose clocks disagree still book one schedule.
 * A penalty is sent as "for N ms from now" and anchored on Redis's clock for the same reason.
 *
 * State is one hash per key, `wagate:rl:<key>` (fields `tat`, `held`), expiring once both times
 * have passed (an absent key and an expired one mean the same thing).
 *
 * When Redis does not answer, `reserve` refuses with a 1 s wait (the outbox reschedules the send
 * without spending an attempt) rather than sending unpaced: several processes each sending at the
 * full rate would exceed it. `penalize` errors are logged and dropped (the throttled message keeps
 * its own retry delay).
 *
 * @example
 * const limiter = createRedisLimiter({ redis: new Redis('redis://127.0.0.1:6379') })
 * const slot = await limiter.reserve('acc_1', { ratePerSec: 80, burst: 1 }, 5_000)
 * if (slot.ok) await sleep(slot.waitMs)
 */
export interface RedisLimiterOptions {
  redis: Redis
  /** The caller's clock, to turn `penalize`'s absolute time into a duration. */
  now?: () => number
  logger?: Logger
  /** Key prefix (tests use their own). */
  prefix?: string
  /** What `reserve` answers when Redis fails: come back in this many ms. */
  unavailableRetryMs?: number
}

// Times are ms as doubles; '%.17g' keeps them exact through the string round trip (Lua's tostring
// keeps 14 digits, and a number returned to Redis is truncated to an integer).
const NOW = `local clock = redis.call('TIME')
local t = tonumber(clock[1]) * 1000 + tonumber(clock[2]) / 1000
local function fmt(x) return string.format('%.17g', x) end
`

/** KEYS[1] state; ARGV interval, tolerance, maxWait (ms). Returns {ok, waitMs}. */
const RESERVE = `${NOW}
local state = redis.call('HMGET', KEYS[1], 'tat', 'held')
local tat = tonumber(state[1]) or t
if tat < t then tat = t end
local held = tonumber(state[2]) or 0
local interval = tonumber(ARGV[1])
local sendAt = math.max(t, tat - tonumber(ARGV[2]), held)
local wait = sendAt - t
if wait > tonumber(ARGV[3]) then return {0, fmt(wait)} end
local nextTat = math.max(tat, sendAt) + interval
redis.call('HSET', KEYS[1], 'tat', fmt(nextTat))
redis.call('PEXPIRE', KEYS[1], math.ceil(math.max(nextTat, held) - t) + 1000)
return {1, fmt(wait)}
`

/** KEYS[1] state; ARGV forMs (from Redis's now). Holds the key until then, never shortening a hold. */
const PENALIZE = `${NOW}
local hold = t + tonumber(ARGV[1])
local state = redis.call('HMGET', KEYS[1], 'tat', 'held')
local held = tonumber(state[2]) or 0
if hold <= held then return 0 end
redis.call('HSET', KEYS[1], 'held', fmt(hold))
redis.call('PEXPIRE', KEYS[1], math.ceil(math.max(hold, tonumber(state[1]) or 0) - t) + 1000)
return 1
`

const sha1 = (text: string) => createHash('sha1').update(text).digest('hex')

export function createRedisLimiter(opts: RedisLimiterOptions): RateLimiter {
  const { redis } = opts
  const now = opts.now ?? Date.now
  const prefix = opts.prefix ?? 'wagate:rl:'
  const retryMs = opts.unavailableRetryMs ?? 1_000
  let lastLogged = 0

  /** EVALSHA, loading the script on NOSCRIPT (first use, or after a Redis restart or SCRIPT FLUSH). */
  const run = async (script: string, sha: string, key: string, args: Array<string | number>): Promise<unknown> => {
    try {
      return await redis.evalsha(sha, 1, prefix + key, ...args)
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err
      return redis.eval(script, 1, prefix + key, ...args)
    }
  }
  const reserveSha = sha1(RESERVE)
  const penalizeSha = sha1(PENALIZE)

  const logFailure = (err: unknown, op: string) => {
    const t = Date.now()
    if (t - lastLogged < 10_000) return
    lastLogged = t
    opts.logger?.warn({ err: { message: err instanceof Error ? err.message : String(err) }, op }, 'Redis rate limiter unavailable; sends wait for it')
  }

  return {
    shared: true,
    async reserve(key, spec, maxWaitMs) {
      const interval = 1000 / (spec.ratePerSec * RATE_SAFETY)
      const tolerance = interval * (Math.max(1, spec.burst) - 1)
      try {
        const [ok, wait] = (await run(RESERVE, reserveSha, key, [interval, tolerance, maxWaitMs])) as [number, string]
        return { ok: ok === 1, waitMs: Number(wait) }
      } catch (err) {
        logFailure(err, 'reserve')
        return { ok: false, waitMs: retryMs }
      }
    },
    async penalize(key, untilMs) {
      const forMs = untilMs - now()
      if (forMs <= 0) return
      try {
        await run(PENALIZE, penalizeSha, key, [forMs])
      } catch (err) {
        logFailure(err, 'penalize')
      }
    },
  }
}
