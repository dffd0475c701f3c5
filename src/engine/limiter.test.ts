import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { createMemoryLimiter, RATE_SAFETY } from './limiter.js'

function busiestSecond(times: number[]): number {
  const sorted = [...times].sort((a, b) => a - b)
  let best = 0
  let start = 0
  for (let end = 0; end < sorted.length; end++) {
    while ((sorted[end] as number) - (sorted[start] as number) >= 1000) start++
    best = Math.max(best, end - start + 1)
  }
  return best
}

/** A fake clock the limiter reads; tests move it by hand. */
function fakeClock(start = 1_000_000) {
  let t = start
  return { now: () => t, set: (v: number) => (t = v), advance: (ms: number) => (t += ms) }
}

describe('createMemoryLimiter', () => {
  it('books evenly spaced slots at a little under the rate (safety margin)', async () => {
    const clock = fakeClock()
    const limiter = createMemoryLimiter(clock.now)
    const spec = { ratePerSec: 50, burst: 1 }
    const interval = 1000 / (50 * RATE_SAFETY)
    const waits = []
    for (let i = 0; i < 4; i++) waits.push((await limiter.reserve('acc', spec, 10_000)).waitMs)
    expect(waits[0]).toBe(0)
    waits.forEach((w, i) => expect(w).toBeCloseTo(i * interval, 9))
  })

  it('keeps keys apart', async () => {
    const clock = fakeClock()
    const limiter = createMemoryLimiter(clock.now)
    await limiter.reserve('a', { ratePerSec: 1, burst: 1 }, 10_000)
    expect((await limiter.reserve('b', { ratePerSec: 1, burst: 1 }, 10_000)).waitMs).toBe(0)
  })

  it('refuses when the wait would exceed maxWait, without booking a slot', async () => {
    const clock = fakeClock()
    const limiter = createMemoryLimiter(clock.now)
    const spec = { ratePerSec: 1, burst: 1 }
    await limiter.reserve('acc', spec, 5_000) // now
    const second = await limiter.reserve('acc', spec, 5_000) // ~1020 ms later
    expect(second.ok).toBe(true)
    const refused = await limiter.reserve('acc', spec, 1_500) // would be ~2040 ms
    expect(refused.ok).toBe(false)
    expect(refused.waitMs).toBeGreaterThan(1_500)
    // The refusal booked nothing: the next caller gets the same slot
    const again = await limiter.reserve('acc', spec, 5_000)
    expect(again).toEqual({ ok: true, waitMs: refused.waitMs })
  })

  it.each([1, 5])('penalize holds every send until the given time (burst %i)', async (burst) => {
    const clock = fakeClock()
    const limiter = createMemoryLimiter(clock.now)
    const spec = { ratePerSec: 10, burst }
    const until = clock.now() + 5_000
    await limiter.penalize('acc', until)
    const sendTimes: number[] = []
    for (let i = 0; i < 20; i++) {
      const slot = await limiter.reserve('acc', spec, 60_000)
      expect(slot.ok).toBe(true)
      sendTimes.push(clock.now() + slot.waitMs)
      clock.advance(100)
    }
    expect(Math.min(...sendTimes)).toBeGreaterThanOrEqual(until)
    // after the hold, the rate still applies
    expect(busiestSecond(sendTimes)).toBeLessThanOrEqual(10 + burst - 1)
  })

  it('refuses during a penalty when the caller cannot wait that long', async () => {
    const clock = fakeClock()
    const limiter = createMemoryLimiter(clock.now)
    await limiter.penalize('acc', clock.now() + 30_000)
    const slot = await limiter.reserve('acc', { ratePerSec: 80, burst: 3 }, 20_000)
    expect(slot.ok).toBe(false)
    expect(slot.waitMs).toBe(30_000)
  })

  it('a penalty in the past changes nothing, and a shorter one never shortens a longer one', async () => {
    const clock = fakeClock()
    const limiter = createMemoryLimiter(clock.now)
    await limiter.penalize('acc', clock.now() - 10_000)
    expect((await limiter.reserve('acc', { ratePerSec: 1, burst: 1 }, 0)).waitMs).toBe(0)
    await limiter.penalize('b', clock.now() + 9_000)
    await limiter.penalize('b', clock.now() + 1_000)
    expect((await limiter.reserve('b', { ratePerSec: 1, burst: 1 }, 60_000)).waitMs).toBe(9_000)
  })

  it('with burst 1 and many concurrent workers, never puts more than rate sends in any second, and achieves ≥ 95% of it (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 200 }),
        fc.integer({ min: 2, max: 6 }),
        fc.array(fc.integer({ min: 0, max: 30 }), { minLength: 1, maxLength: 50 }),
        async (rate, seconds, steps) => {
          const clock = fakeClock()
          const limiter = createMemoryLimiter(clock.now)
          const spec = { ratePerSec: rate, burst: 1 }
          const start = clock.now()
          const end = start + seconds * 1000
          const sends: number[] = []
          // Workers keep asking (as the outbox does); each step the clock moves a little.
          let i = 0
          while (clock.now() < end) {
            for (;;) {
              const slot = await limiter.reserve('acc', spec, 250)
              if (!slot.ok) break
              sends.push(clock.now() + slot.waitMs)
            }
            clock.advance(1 + (steps[i++ % steps.length] as number))
          }
          const inRun = sends.filter((t) => t < end)
          expect(busiestSecond(sends)).toBeLessThanOrEqual(rate)
          expect(inRun.length).toBeGreaterThanOrEqual(0.95 * rate * seconds)
        },
      ),
      { numRuns: 100 },
    )
  })
})
