import { randomBytes } from 'node:crypto'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest'
import { createMemoryLimiter, RATE_SAFETY, type RateLimiter } from '../../src/engine/limiter.js'
import { connectRedis } from '../../src/engine/redis.js'
import { createRedisLimiter } from '../../src/engine/redis-limiter.js'
import { createLogger } from '../../src/logger.js'
import { assertRedis, REDIS_URL, redisSkipped, warnIfSkipped } from './redis-service.js'

/**
 * One suite for every RateLimiter, in real time: the in-memory one (one process) and the Redis one,
 * where `a` and `b` are two connections — two processes sharing the same keys.
 */
interface Backend {
  /** Two handles on the same limiter state. */
  a: RateLimiter
  b: RateLimiter
  close(): Promise<void>
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))
const key = () => `conf_${randomBytes(6).toString('hex')}`

function busiestSecond(times: number[]): number {
  const sorted = [...times].sort((x, y) => x - y)
  let best = 0
  let start = 0
  for (let end = 0; end < sorted.length; end++) {
    while ((sorted[end] as number) - (sorted[start] as number) >= 1000) start++
    best = Math.max(best, end - start + 1)
  }
  return best
}

/** Reserves and returns when the slot is, on the local clock (midpoint of the round trip). */
async function slotAt(limiter: RateLimiter, k: string, spec: { ratePerSec: number; burst: number }, maxWaitMs: number) {
  const before = Date.now()
  const slot = await limiter.reserve(k, spec, maxWaitMs)
  const after = Date.now()
  return { ...slot, at: (before + after) / 2 + slot.waitMs }
}

function limiterSuite(name: string, open: () => Promise<Backend>) {
  describe(`rate limiter conformance: ${name}`, () => {
    let backend: Backend
    beforeAll(async () => {
      backend = await open()
    })
    afterAll(async () => {
      await backend?.close()
    })

    it('paces two instances sharing a key at the rate (± 2 %), never over it in any second', async () => {
      const { a, b } = backend
      const k = key()
      const rate = 100
      const spec = { ratePerSec: rate, burst: 1 }
      const start = Date.now()
      const runMs = 3_600
      const sends: Array<{ at: number; by: 'a' | 'b' }> = []
      // Like outbox workers: book ahead until refused (2 s ahead, so a stalled test process does not
      // leave gaps in the schedule), then doze a little.
      const worker = async (limiter: RateLimiter, by: 'a' | 'b') => {
        while (Date.now() - start < runMs) {
          const slot = await slotAt(limiter, k, spec, 2_000)
          if (slot.ok) sends.push({ at: slot.at, by })
          else await sleep(20 + Math.random() * 30)
        }
      }
      await Promise.all([worker(a, 'a'), worker(a, 'a'), worker(b, 'b'), worker(b, 'b')])
      const windowMs = 3_000
      const inWindow = sends.filter((s) => s.at >= start + 300 && s.at < start + 300 + windowMs)
      const expected = (windowMs / 1000) * rate * RATE_SAFETY
      expect(inWindow.length).toBeGreaterThanOrEqual(expected * 0.98)
      expect(inWindow.length).toBeLessThanOrEqual(expected * 1.02)
      expect(busiestSecond(sends.map((s) => s.at))).toBeLessThanOrEqual(rate)
      // Both instances booked slots: the limit was held between them, not by one of them alone.
      expect(inWindow.filter((s) => s.by === 'a').length).toBeGreaterThan(expected * 0.2)
      expect(inWindow.filter((s) => s.by === 'b').length).toBeGreaterThan(expected * 0.2)
    })

    it('lets a burst through at once, then spaces the rest', async () => {
      const { a, b } = backend
      const k = key()
      const spec = { ratePerSec: 10, burst: 5 }
      const interval = 1000 / (10 * RATE_SAFETY)
      const started = Date.now()
      const waits: number[] = []
      for (let i = 0; i < 5; i++) waits.push((await (i % 2 ? b : a).reserve(k, spec, 10_000)).waitMs)
      const sixth = await b.reserve(k, spec, 10_000)
      const elapsed = Date.now() - started
      expect(waits).toEqual([0, 0, 0, 0, 0])
      expect(sixth.ok).toBe(true)
      expect(sixth.waitMs).toBeGreaterThan(interval - elapsed - 5)
      expect(sixth.waitMs).toBeLessThanOrEqual(interval + 1)
    })

    it('refuses a wait longer than maxWaitMs, and the refusal books nothing', async () => {
      const { a, b } = backend
      const k = key()
      const spec = { ratePerSec: 1, burst: 1 }
      const interval = 1000 / RATE_SAFETY
      expect(await a.reserve(k, spec, 5_000)).toEqual({ ok: true, waitMs: 0 })
      const second = await b.reserve(k, spec, 5_000)
      expect(second.ok).toBe(true)
      expect(second.waitMs).toBeGreaterThan(interval - 100)
      const refused = await a.reserve(k, spec, 1_500)
      expect(refused.ok).toBe(false)
      expect(refused.waitMs).toBeGreaterThan(1_500)
      expect(refused.waitMs).toBeLessThanOrEqual(2 * interval + 0.01)
      // The next caller gets the slot the refused one was offered (less the time gone by), not a later one.
      const again = await b.reserve(k, spec, 5_000)
      expect(again.ok).toBe(true)
      expect(again.waitMs).toBeLessThanOrEqual(refused.waitMs)
      expect(again.waitMs).toBeGreaterThan(refused.waitMs - 100)
    })

    it('penalize holds every send of the key until then, on every instance; a shorter hold never shortens it', async () => {
      const { a, b } = backend
      const k = key()
      const spec = { ratePerSec: 10, burst: 3 }
      const until = Date.now() + 1_000
      await a.penalize(k, until)
      await b.penalize(k, until - 700)
      const refused = await b.reserve(k, spec, 200)
      expect(refused.ok).toBe(false)
      expect(refused.waitMs).toBeGreaterThan(800)
      const times: number[] = []
      for (let i = 0; i < 12; i++) {
        const slot = await slotAt(i % 2 ? a : b, k, spec, 10_000)
        expect(slot.ok).toBe(true)
        times.push(slot.at)
      }
      expect(Math.min(...times)).toBeGreaterThanOrEqual(until - 5)
      // After the hold the rate applies again (burst included).
      expect(busiestSecond(times)).toBeLessThanOrEqual(10 + 3 - 1)
    })

    it('a penalty already over changes nothing, and keys are kept apart', async () => {
      const { a, b } = backend
      const k = key()
      await a.penalize(k, Date.now() - 10_000)
      expect(await b.reserve(k, { ratePerSec: 1, burst: 1 }, 0)).toEqual({ ok: true, waitMs: 0 })
      expect(await a.reserve(key(), { ratePerSec: 1, burst: 1 }, 0)).toEqual({ ok: true, waitMs: 0 })
    })
  })
}

limiterSuite('memory', async () => {
  const limiter = createMemoryLimiter()
  return { a: limiter, b: limiter, close: async () => {} }
})

warnIfSkipped('the limiter conformance suite')
describe.skipIf(redisSkipped)('on Redis', () => {
  beforeAll(() => assertRedis())
  const logger = createLogger({ level: 'silent' })
  limiterSuite('Redis (two connections)', async () => {
    const one = new Redis(REDIS_URL)
    const two = new Redis(REDIS_URL)
    return {
      a: createRedisLimiter({ redis: one, logger }),
      b: createRedisLimiter({ redis: two, logger }),
      close: async () => {
        await one.quit()
        await two.quit()
      },
    }
  })

  describe('Redis limiter specifics', () => {
    let redis: Redis
    beforeAll(() => {
      redis = new Redis(REDIS_URL)
    })
    afterAll(async () => {
      await redis?.quit()
    })

    it('keeps its state under wagate:rl:<key>, expiring soon after the schedule passes', async () => {
      const limiter = createRedisLimiter({ redis })
      const k = key()
      await limiter.reserve(k, { ratePerSec: 2, burst: 1 }, 5_000)
      await limiter.reserve(k, { ratePerSec: 2, burst: 1 }, 5_000)
      const ttl = await redis.pttl(`wagate:rl:${k}`)
      // tat is two intervals (~1020 ms) ahead, plus one second of slack.
      expect(ttl).toBeGreaterThan(1_500)
      expect(ttl).toBeLessThanOrEqual(2_100)
      await limiter.penalize(k, Date.now() + 5_000)
      expect(await redis.pttl(`wagate:rl:${k}`)).toBeGreaterThan(5_500)
      expect(await redis.hget(`wagate:rl:${k}`, 'held')).toMatch(/^\d+(\.\d+)?$/)
    })

    it('reads time from Redis: a process whose clock is 10 minutes ahead books the same schedule and holds for the same span', async () => {
      const skew = 600_000
      const honest = createRedisLimiter({ redis })
      const other = new Redis(REDIS_URL)
      onTestFinished(() => void other.quit())
      const ahead = createRedisLimiter({ redis: other, now: () => Date.now() + skew })
      const k = key()
      const spec = { ratePerSec: 1, burst: 1 }
      expect(await ahead.reserve(k, spec, 5_000)).toEqual({ ok: true, waitMs: 0 })
      const next = await honest.reserve(k, spec, 5_000)
      expect(next.waitMs).toBeGreaterThan(1000 / RATE_SAFETY - 100)
      expect(next.waitMs).toBeLessThanOrEqual(1000 / RATE_SAFETY)
      const k2 = key()
      await ahead.penalize(k2, Date.now() + skew + 1_000)
      const held = await honest.reserve(k2, spec, 60_000)
      expect(held.waitMs).toBeGreaterThan(850)
      expect(held.waitMs).toBeLessThanOrEqual(1_000)
    })

    it('when Redis does not answer, refuses with a short retry instead of sending unpaced, and never throws', async () => {
      const logs: string[] = []
      const logger = createLogger({ level: 'warn', destination: { write: (line: string) => void logs.push(line) } })
      // Port 9 (discard) is closed on loopback: every connection attempt is refused.
      const dead = connectRedis('redis://127.0.0.1:9', logger, { commandTimeoutMs: 500 })
      dead.connect()
      try {
        const limiter = createRedisLimiter({ redis: dead.commands, logger, unavailableRetryMs: 750 })
        const started = Date.now()
        expect(await limiter.reserve(key(), { ratePerSec: 10, burst: 1 }, 5_000)).toEqual({ ok: false, waitMs: 750 })
        await expect(limiter.penalize(key(), Date.now() + 1_000)).resolves.toBeUndefined()
        expect(Date.now() - started).toBeLessThan(3_000)
        expect(logs.some((l) => l.includes('Redis rate limiter unavailable'))).toBe(true)
      } finally {
        await dead.close()
      }
    })
  })
})
