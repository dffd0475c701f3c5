import { describe, expect, it } from 'vitest'
import { maxInWindow, medianOf, percentile, rateOf, Samples, summarize } from './stats.js'

describe('percentile (nearest rank)', () => {
  const hundred = Array.from({ length: 100 }, (_, i) => 100 - i) // 100..1, unsorted on purpose

  it('gives the k-th smallest of 100 values for p = k', () => {
    expect(percentile(hundred, 50)).toBe(50)
    expect(percentile(hundred, 99)).toBe(99)
    expect(percentile(hundred, 100)).toBe(100)
    expect(percentile(hundred, 1)).toBe(1)
  })

  it('rounds the rank up on small samples', () => {
    expect(percentile([10, 20, 30], 50)).toBe(20)
    expect(percentile([10, 20, 30], 99)).toBe(30)
    expect(percentile([7], 0)).toBe(7)
  })

  it('is NaN without samples', () => {
    expect(percentile([], 50)).toBeNaN()
  })
})

describe('medianOf', () => {
  it('takes the middle of an odd count with its spread', () => {
    expect(medianOf([30, 10, 50, 20, 40])).toEqual({ median: 30, min: 10, max: 50, n: 5 })
  })

  it('averages the middle two of an even count and ignores non-finite runs', () => {
    expect(medianOf([4, 1, 3, 2, Number.NaN])).toEqual({ median: 2.5, min: 1, max: 4, n: 4 })
  })
})

describe('Samples', () => {
  it('keeps every pushed value past its initial capacity', () => {
    const s = new Samples()
    for (let i = 5000; i > 0; i--) s.push(i)
    expect(s.length).toBe(5000)
    const sorted = s.sorted()
    expect(sorted[0]).toBe(1)
    expect(sorted[4999]).toBe(5000)
    expect(summarize(s)).toEqual({ p50: 2500, p90: 4500, p99: 4950, max: 5000 })
  })
})

describe('rate helpers', () => {
  it('rateOf counts intervals over the span', () => {
    expect(rateOf([0, 100, 200, 300])).toBe(10)
    expect(rateOf([1000, 0, 500])).toBe(2)
    expect(rateOf([5])).toBeNaN()
  })

  it('maxInWindow finds the densest second, end exclusive', () => {
    expect(maxInWindow([0, 10, 20, 1005, 1010], 1000)).toBe(3)
    expect(maxInWindow([0, 1000, 2000], 1000)).toBe(1)
    expect(maxInWindow([], 1000)).toBe(0)
  })
})
