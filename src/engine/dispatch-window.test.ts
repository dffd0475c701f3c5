import { describe, expect, it } from 'vitest'
import { createDispatchWindow } from './dispatch-window.js'

describe('createDispatchWindow', () => {
  it('lets `max` sends through in a second, then says how long until the oldest leaves the window', () => {
    const w = createDispatchWindow()
    for (let i = 0; i < 3; i++) expect(w.take('a', 3, 1000 + i * 10)).toBe(0)
    expect(w.take('a', 3, 1100)).toBe(900) // oldest at 1000 leaves at 2000
    expect(w.take('a', 3, 1999)).toBe(1)
    expect(w.take('a', 3, 2000)).toBe(0)
    expect(w.take('a', 3, 2005)).toBe(5) // next oldest: 1010
    expect(w.take('b', 3, 2005)).toBe(0) // accounts are independent
  })

  it('never admits more than `max` in any 1,000 ms, whatever the arrival pattern', () => {
    const w = createDispatchWindow()
    const admitted: number[] = []
    let now = 0
    // Bursts of 50 callers at once, as when a stalled event loop fires every due timer together.
    for (let round = 0; round < 40; round++) {
      now += round % 7 === 0 ? 230 : 13
      for (let c = 0; c < 50; c++) if (w.take('acc', 20, now) === 0) admitted.push(now)
    }
    for (let i = 0; i < admitted.length; i++) {
      const inWindow = admitted.filter((t) => t >= (admitted[i] as number) && t < (admitted[i] as number) + 1000).length
      expect(inWindow).toBeLessThanOrEqual(20)
    }
    expect(admitted.length).toBeGreaterThan(20)
  })

  it('a changed rate starts over with the new size', () => {
    const w = createDispatchWindow()
    expect(w.take('a', 1, 0)).toBe(0)
    expect(w.take('a', 1, 10)).toBe(990)
    expect(w.take('a', 2, 10)).toBe(0)
    expect(w.take('a', 2, 20)).toBe(0)
    expect(w.take('a', 2, 30)).toBe(980)
  })
})
