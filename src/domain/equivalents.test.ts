import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { areEquivalent, equivalentNumbers } from './equivalents.js'

const digitString = (min: number, max: number) => fc.array(fc.constantFrom(...'0123456789'.split('')), { minLength: min, maxLength: max }).map((d) => d.join(''))

/** Numbers near the rules (the three countries, both lengths) and elsewhere. */
const numbers = fc.oneof(
  fc.tuple(fc.constantFrom('55', '52', '54', '1', '44', '91', '549', '521'), digitString(8, 12)).map(([cc, rest]) => cc + rest),
  fc.tuple(fc.constantFrom('11', '21', '35', '99'), fc.constantFrom('', '9'), fc.constantFrom('6', '7', '8', '9', '3'), digitString(7, 7)).map(([area, nine, first, rest]) => `55${area}${nine}${first}${rest}`),
  fc.tuple(fc.constantFrom('', '1'), fc.constantFrom('2', '5', '8', '1'), digitString(9, 9)).map(([one, first, rest]) => `52${one}${first}${rest}`),
  fc.tuple(fc.constantFrom('', '9'), fc.constantFrom('1', '2', '3', '9'), digitString(9, 9)).map(([nine, first, rest]) => `54${nine}${first}${rest}`),
)

describe('equivalentNumbers: the forms WhatsApp may know a number by (DESIGN §7)', () => {
  it.each([
    // Brazil: mobile with / without the ninth digit
    ['+5535987654321', ['+5535987654321', '+553587654321']],
    ['553587654321', ['+553587654321', '+5535987654321']],
    ['+5511987654321', ['+5511987654321', '+551187654321']],
    // Mexico: with / without the 1 after +52
    ['+5215512345678', ['+5215512345678', '+525512345678']],
    ['+525512345678', ['+525512345678', '+5215512345678']],
    // Argentina: with / without the mobile 9 after +54
    ['+5491123456789', ['+5491123456789', '+541123456789']],
    ['541123456789', ['+541123456789', '+5491123456789']],
    // Nothing to add elsewhere
    ['+14155550123', ['+14155550123']],
    ['+447700900123', ['+447700900123']],
  ])('%s → %j', (input, expected) => {
    expect(equivalentNumbers(input)).toEqual(expected)
  })

  it('never pairs a Brazilian landline with a mobile (eight-digit part 2–5)', () => {
    // +55 35 3234-5678 is a landline; +55 35 9 3234-5678 is somebody else's mobile.
    expect(equivalentNumbers('+553532345678')).toEqual(['+553532345678'])
    expect(equivalentNumbers('+5535932345678')).toEqual(['+5535932345678'])
  })

  it('is empty for what is not a number (user ids, text)', () => {
    expect(equivalentNumbers('US.1234')).toEqual([])
    expect(equivalentNumbers('')).toEqual([])
    expect(equivalentNumbers('+55 35 98765-4321')).toEqual([])
  })

  it('property: equivalence is symmetric', () => {
    fc.assert(
      fc.property(numbers, (a) => {
        for (const b of equivalentNumbers(a)) {
          expect(equivalentNumbers(b)).toContain(`+${a}`)
          expect(areEquivalent(b, a)).toBe(true)
        }
      }),
      { numRuns: 2000 },
    )
  })

  it('property: a class has at most two members and every member sees the same class', () => {
    fc.assert(
      fc.property(numbers, (a) => {
        const cls = equivalentNumbers(a)
        expect(cls.length).toBeGreaterThanOrEqual(1)
        expect(cls.length).toBeLessThanOrEqual(2)
        for (const b of cls) expect(new Set(equivalentNumbers(b))).toEqual(new Set(cls))
      }),
      { numRuns: 2000 },
    )
  })

  it('property: two equivalent numbers differ only by one inserted digit, in the same country', () => {
    fc.assert(
      fc.property(numbers, (a) => {
        for (const e of equivalentNumbers(a).slice(1)) {
          const b = e.slice(1)
          const [long, short] = a.length > b.length ? [a, b] : [b, a]
          expect(long.length).toBe(short.length + 1)
          expect(long.slice(0, 2)).toBe(short.slice(0, 2))
          const removable = [...long].some((_, i) => long.slice(0, i) + long.slice(i + 1) === short)
          expect(removable).toBe(true)
        }
      }),
      { numRuns: 2000 },
    )
  })

  it('property: never joins two numbers that differ in any other digit', () => {
    fc.assert(
      fc.property(numbers, fc.nat(), fc.constantFrom(...'0123456789'.split('')), (a, position, digit) => {
        const i = position % a.length
        fc.pre(a[i] !== digit)
        const changed = a.slice(0, i) + digit + a.slice(i + 1)
        // Same length, different digits: never equivalent, whatever the rule.
        expect(areEquivalent(a, changed)).toBe(false)
        // And neither is any equivalent form of the changed number.
        for (const e of equivalentNumbers(changed)) expect(areEquivalent(a, e)).toBe(false)
      }),
      { numRuns: 2000 },
    )
  })
})
