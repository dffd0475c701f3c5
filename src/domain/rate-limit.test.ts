import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { gcra } from './rate-limit.js'

/** Largest number of `times` (sorted) inside any half-open window [t, t + 1000). */
function busiestSecond(times: number[]): number {
  let best = 0
  let start = 0
  for (let end = 0; end < times.length; end++) {
    while ((times[end] as number) - (times[start] as number) >= 1000) start++
    best = Math.max(best, end - start + 1)
  }
  return best
}

/** A greedy sender on a simulated clock: sends whenever allowed, otherwise waits as told. */
function greedy(ratePerSec: number, burst: number, seconds: number, start = 1_000_000): number[] {
  const sends: number[] = []
  let tat: number | undefined
  let now = start
  while (now < start + seconds * 1000) {
    const r = gcra(tat, now, { ratePerSec, burst })
    if (r.allowed) {
      sends.push(now)
      tat = r.tat
    } else {
      expect(r.waitMs).toBeGreaterThan(0)
      expect(r.tat).toBe(tat)
      now += r.waitMs
    }
  }
  return sends
}

describe('gcra', () => {
  it('spaces sends 1/rate apart with burst 1 (doc example: 80/s → 12.5 ms)', () => {
    expect(gcra(undefined, 1000, { ratePerSec: 80, burst: 1 })).toEqual({ allowed: true, waitMs: 0, tat: 1012.5 })
    expect(gcra(1012.5, 1000, { ratePerSec: 80, burst: 1 })).toEqual({ allowed: false, waitMs: 12.5, tat: 1012.5 })
    expect(gcra(1012.5, 1012.5, { ratePerSec: 80, burst: 1 })).toEqual({ allowed: true, waitMs: 0, tat: 1025 })
  })

  it('lets a burst through at once, then paces', () => {
    let tat: number | undefined
    const allowed: boolean[] = []
    for (let i = 0; i < 5; i++) {
      const r = gcra(tat, 0, { ratePerSec: 10, burst: 3 })
      allowed.push(r.allowed)
      if (r.allowed) tat = r.tat
    }
    expect(allowed).toEqual([true, true, true, false, false])
  })

  it('forgets an old tat: an idle key starts fresh', () => {
    expect(gcra(500, 10_000, { ratePerSec: 1, burst: 1 })).toEqual({ allowed: true, waitMs: 0, tat: 11_000 })
  })

  it('with burst 1, never puts more than rate sends in any second and achieves ≥ 95% of it (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 250 }), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 0, max: 10_000_000 }), (rate, seconds, start) => {
        const sends = greedy(rate, 1, seconds, start)
        expect(busiestSecond(sends)).toBeLessThanOrEqual(rate)
        expect(sends.length).toBeGreaterThanOrEqual(0.95 * rate * seconds)
      }),
      { numRuns: 300 },
    )
  })

  it('keeps the limit when requests arrive at arbitrary times (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 50 }), fc.array(fc.integer({ min: 0, max: 200 }), { minLength: 1, maxLength: 400 }), (rate, gaps) => {
        let now = 0
        let tat: number | undefined
        const sends: number[] = []
        for (const gap of gaps) {
          now += gap
          const r = gcra(tat, now, { ratePerSec: rate, burst: 1 })
          if (r.allowed) {
            tat = r.tat
            sends.push(now)
          }
        }
        expect(busiestSecond(sends)).toBeLessThanOrEqual(rate)
      }),
    )
  })
})
