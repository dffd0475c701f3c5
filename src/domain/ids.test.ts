import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { newId } from './ids.js'

const CROCKFORD = /^[0-9A-HJKMNP-TV-Z]+$/

describe('newId', () => {
  it('is the prefix, an underscore and 26 Crockford base32 characters', () => {
    const id = newId('msg')
    expect(id).toMatch(/^msg_[0-9A-HJKMNP-TV-Z]{26}$/)
    expect(newId('evt', 0).startsWith('evt_0000000000')).toBe(true)
  })

  it('encodes the time in its first 10 characters', () => {
    // 2^50 - 1 ms is the largest 10-digit base32 time: all Z
    expect(newId('x', 2 ** 50 - 1).slice(2, 12)).toBe('ZZZZZZZZZZ')
    expect(newId('x', 32).slice(2, 12)).toBe('0000000010')
    // computed independently: 1_700_000_000_000 in Crockford base32 (same as ULID's time part)
    expect(newId('x', 1_700_000_000_000).slice(2, 12)).toBe('01HF7YAT00')
  })

  it('tolerates a fractional or negative clock without leaking "undefined" into the id', () => {
    expect(newId('x', 1000.7)).toMatch(/^x_[0-9A-HJKMNP-TV-Z]{26}$/)
    expect(newId('x', 1000.7).slice(2, 12)).toBe(newId('x', 1000).slice(2, 12))
    expect(newId('x', -5)).toMatch(/^x_0{10}[0-9A-HJKMNP-TV-Z]{16}$/)
  })

  it('sorts in the order of the times it was made at (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 2 ** 48 }), { minLength: 2, maxLength: 50 }), (times) => {
        const sorted = [...times].sort((a, b) => a - b)
        const ids = sorted.map((t) => newId('msg', t))
        // Sorting the ids as strings must keep the time order (equal times keep creation order)
        expect([...ids].sort()).toEqual(ids)
      }),
    )
  })

  it('sorts in creation order within one millisecond (the parts of a split text share a timestamp)', () => {
    const now = 1_750_000_000_000
    const ids = Array.from({ length: 1000 }, () => newId('msg', now))
    expect([...ids].sort()).toEqual(ids)
    expect(new Set(ids).size).toBe(ids.length)
  })

  it('does not collide in 100k ids made as fast as possible', () => {
    const ids = new Set<string>()
    for (let i = 0; i < 100_000; i++) ids.add(newId('msg'))
    expect(ids.size).toBe(100_000)
  })

  it('does not collide across different timestamps either, and the random part varies', () => {
    const randoms = new Set<string>()
    for (let i = 0; i < 10_000; i++) {
      const id = newId('msg', i)
      expect(id.slice(4)).toMatch(CROCKFORD)
      randoms.add(id.slice(14))
    }
    expect(randoms.size).toBe(10_000)
  })
})
