import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { accountCap, fairQuotas, type AccountLoad } from './fair-share.js'

const loads = fc.uniqueArray(
  fc.record({ id: fc.string({ minLength: 1, maxLength: 6 }), ratePerSec: fc.integer({ min: 1, max: 2_000 }), inflight: fc.integer({ min: 0, max: 300 }) }),
  { selector: (a) => a.id, maxLength: 30 },
)
const settings = fc.record({ free: fc.integer({ min: 0, max: 500 }), concurrency: fc.integer({ min: 1, max: 1_000 }), start: fc.integer({ min: 0, max: 100 }) })
const sum = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0)

describe('accountCap', () => {
  it('is one second of the rate, at least one job and at most every slot', () => {
    expect(accountCap(80, 256)).toBe(80)
    expect(accountCap(0.5, 256)).toBe(1)
    expect(accountCap(1_000, 256)).toBe(256)
  })
})

describe('fairQuotas', () => {
  it('a slow account behind a deep backlog still gets its share: slots are dealt, not taken in queue order', () => {
    const q = fairQuotas(
      [
        { id: 'campaign', ratePerSec: 1_000, inflight: 0 },
        { id: 'one-off', ratePerSec: 80, inflight: 0 },
      ],
      { free: 64, concurrency: 256, start: 0 },
    )
    expect(q.get('one-off')).toBe(32)
    expect(q.get('campaign')).toBe(32)
  })

  it('an account at its cap gets nothing and its share goes to the others', () => {
    const q = fairQuotas(
      [
        { id: 'a', ratePerSec: 80, inflight: 80 },
        { id: 'b', ratePerSec: 80, inflight: 70 },
        { id: 'c', ratePerSec: 1_000, inflight: 0 },
      ],
      { free: 50, concurrency: 256, start: 0 },
    )
    expect(q.has('a')).toBe(false)
    expect(q.get('b')).toBe(10)
    expect(q.get('c')).toBe(40)
  })

  it('with fewer slots than accounts, the rotating start decides who is served', () => {
    const accounts: AccountLoad[] = ['a', 'b', 'c'].map((id) => ({ id, ratePerSec: 10, inflight: 0 }))
    expect([...fairQuotas(accounts, { free: 1, concurrency: 10, start: 0 }).keys()]).toEqual(['a'])
    expect([...fairQuotas(accounts, { free: 1, concurrency: 10, start: 1 }).keys()]).toEqual(['b'])
    expect([...fairQuotas(accounts, { free: 1, concurrency: 10, start: 5 }).keys()]).toEqual(['c'])
  })

  it('never deals more than the free slots nor more than an account has room for', () => {
    fc.assert(
      fc.property(loads, settings, (accounts, s) => {
        const q = fairQuotas(accounts, s)
        expect(sum(q)).toBeLessThanOrEqual(s.free)
        for (const a of accounts) expect(q.get(a.id) ?? 0).toBeLessThanOrEqual(Math.max(0, accountCap(a.ratePerSec, s.concurrency) - a.inflight))
        for (const v of q.values()) expect(v).toBeGreaterThan(0)
      }),
    )
  })

  it('leaves no slot unused while an account has room, and shares are max-min fair (within one)', () => {
    fc.assert(
      fc.property(loads, settings, (accounts, s) => {
        const q = fairQuotas(accounts, s)
        const room = (a: AccountLoad) => Math.max(0, accountCap(a.ratePerSec, s.concurrency) - a.inflight)
        const totalRoom = accounts.reduce((t, a) => t + room(a), 0)
        expect(sum(q)).toBe(Math.min(s.free, totalRoom))
        // An account that got less than its room got at least as much as anyone else, minus one.
        const most = Math.max(0, ...q.values())
        for (const a of accounts) if ((q.get(a.id) ?? 0) < room(a)) expect(q.get(a.id) ?? 0).toBeGreaterThanOrEqual(most - 1)
      }),
    )
  })
})
