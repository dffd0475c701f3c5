import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { delayWithHint, retryDelayMs } from './backoff.js'

describe('retryDelayMs', () => {
  const policy = { baseMs: 1000, maxMs: 60_000 }

  it('doubles per attempt around the middle of the jitter range', () => {
    // exp = base · 2^(attempt-1); with random 0.5 the delay is 3/4 of it
    expect(retryDelayMs(1, policy, () => 0.5)).toBe(750)
    expect(retryDelayMs(2, policy, () => 0.5)).toBe(1500)
    expect(retryDelayMs(3, policy, () => 0.5)).toBe(3000)
  })

  it('spans exp/2 (random 0) to exp (random → 1)', () => {
    expect(retryDelayMs(4, policy, () => 0)).toBe(4000)
    expect(retryDelayMs(4, policy, () => 0.999999)).toBe(8000)
  })

  it('caps at maxMs, even for absurd attempt counts', () => {
    expect(retryDelayMs(30, policy, () => 0.999999)).toBe(60_000)
    expect(retryDelayMs(5000, policy, () => 0)).toBe(30_000)
  })

  it('treats attempt 0 or below like the first attempt', () => {
    expect(retryDelayMs(0, policy, () => 0)).toBe(500)
    expect(retryDelayMs(-3, policy, () => 0)).toBe(500)
  })

  it('stays within [exp/2, exp] with exp capped at max (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 200 }),
        fc.integer({ min: 1, max: 100_000 }),
        fc.integer({ min: 1, max: 10_000_000 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (attempt, baseMs, maxMs, r) => {
          const exp = Math.min(maxMs, baseMs * 2 ** (attempt - 1))
          const delay = retryDelayMs(attempt, { baseMs, maxMs }, () => r)
          expect(Number.isInteger(delay)).toBe(true)
          expect(delay).toBeGreaterThanOrEqual(exp / 2)
          expect(delay).toBeLessThanOrEqual(exp)
          expect(delay).toBeLessThanOrEqual(maxMs)
        },
      ),
      { numRuns: 1000 },
    )
  })

  it('never shrinks as attempts grow, for a fixed random (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 60 }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (attempt, r) => {
        expect(retryDelayMs(attempt + 1, policy, () => r)).toBeGreaterThanOrEqual(retryDelayMs(attempt, policy, () => r))
      }),
    )
  })
})

describe('delayWithHint', () => {
  it('uses our own delay when there is no usable hint', () => {
    expect(delayWithHint(2000, undefined, 60_000)).toBe(2000)
    expect(delayWithHint(2000, 0, 60_000)).toBe(2000)
    expect(delayWithHint(2000, -5, 60_000)).toBe(2000)
    expect(delayWithHint(2000, Number.NaN, 60_000)).toBe(2000)
    expect(delayWithHint(2000, Number.POSITIVE_INFINITY, 60_000)).toBe(2000)
  })

  it('takes the hint when it asks for longer, and our delay when it asks for less', () => {
    expect(delayWithHint(2000, 5000, 60_000)).toBe(5000)
    expect(delayWithHint(2000, 500, 60_000)).toBe(2000)
  })

  it('caps a long hint at maxMs', () => {
    expect(delayWithHint(2000, 3_600_000, 60_000)).toBe(60_000)
  })

  it('is never below our own delay nor above max (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 60_000 }), fc.option(fc.double({ noNaN: false }), { nil: undefined }), (own, hint) => {
        const d = delayWithHint(own, hint, 60_000)
        expect(d).toBeGreaterThanOrEqual(own)
        expect(d).toBeLessThanOrEqual(60_000)
      }),
    )
  })
})
