import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { escapeToken, isValidPattern, matchTopic, topic, unescapeToken } from './topics.js'

const anyUnicode = fc.string({ unit: 'binary', maxLength: 40 })
/** Strings rich in the characters that matter: separators, wildcards, escapes and odd white space. */
const hostile = fc
  .array(fc.oneof(fc.constantFrom('.', '*', '>', '%', '%2E', '%00', '%u3000', ' ', '\t', '\n', '\u00a0', '\u2028', '\u3000', '\ufeff', '😀', '\0'), fc.string({ maxLength: 3 })), { maxLength: 12 })
  .map((xs) => xs.join(''))

describe('escapeToken / unescapeToken', () => {
  it('escapes the topic separators and wildcards (DESIGN §9 example)', () => {
    expect(topic('incoming', 'acme.br', 'from', '+5535987654321')).toBe('incoming.acme%2Ebr.from.+5535987654321')
    expect(escapeToken('a*b>c%d')).toBe('a%2Ab%3Ec%25d')
    expect(escapeToken('a b')).toBe('a%20b')
  })

  it('gives the empty string a token of its own', () => {
    expect(escapeToken('')).toBe('%00')
    expect(unescapeToken('%00')).toBe('')
    expect(escapeToken('%00')).not.toBe('%00')
  })

  it('round-trips white space above U+00FF (U+3000, U+2028, U+FEFF)', () => {
    for (const v of ['a\u3000b', '\u2028', 'x\ufeff', '\u1680y']) expect(unescapeToken(escapeToken(v))).toBe(v)
  })

  it('round-trips any string (property)', () => {
    fc.assert(
      fc.property(fc.oneof(anyUnicode, hostile), (v) => {
        expect(unescapeToken(escapeToken(v))).toBe(v)
      }),
      { numRuns: 3000 },
    )
  })

  it('never leaves a separator, wildcard or white space in the token, and never an empty token (property)', () => {
    fc.assert(
      fc.property(fc.oneof(anyUnicode, hostile), (v) => {
        const token = escapeToken(v)
        expect(token).not.toMatch(/[.*>\s]/)
        expect(token.length).toBeGreaterThan(0)
      }),
      { numRuns: 3000 },
    )
  })

  it('keeps distinct values distinct (property)', () => {
    fc.assert(
      fc.property(hostile, hostile, (a, b) => {
        fc.pre(a !== b)
        expect(escapeToken(a)).not.toBe(escapeToken(b))
      }),
    )
  })
})

describe('topic', () => {
  it('yields exactly one token per value, whatever the values hold (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(anyUnicode, hostile), { maxLength: 6 }), (values) => {
        const t = topic('incoming', ...values)
        const tokens = t.split('.')
        expect(tokens).toHaveLength(1 + values.length)
        expect(tokens.slice(1).map(unescapeToken)).toEqual(values)
      }),
      { numRuns: 1000 },
    )
  })

  it('cannot be forged into another subscriber’s topic by a value with wildcards or dots', () => {
    const t = topic('incoming', 'acme', 'from', '+1555.*.>')
    expect(matchTopic('incoming.acme.from.*', t)).toBe(true)
    expect(matchTopic('incoming.acme.from.*.*', t)).toBe(false)
  })
})

describe('matchTopic (NATS rules)', () => {
  it.each([
    ['a.b.c', 'a.b.c', true],
    ['a.b.c', 'a.b.d', false],
    ['a.*.c', 'a.b.c', true],
    ['a.*.c', 'a.b.x.c', false],
    ['a.*', 'a', false],
    ['*', 'a', true],
    ['*', 'a.b', false],
    ['a.>', 'a.b', true],
    ['a.>', 'a.b.c.d', true],
    ['a.>', 'a', false],
    ['>', 'a', true],
    ['>', 'a.b.c', true],
    ['*.b.>', 'x.b.y', true],
    ['*.b.>', 'x.c.y', false],
    ['a.b', 'a.b.c', false],
    ['a.b.c', 'a.b', false],
    ['incoming.*.from.>', 'incoming.acme.from.+1555', true],
    ['message.acme.read', 'message.acme.delivered', false],
  ] as const)('%s vs %s → %s', (pattern, subject, expected) => {
    expect(matchTopic(pattern, subject)).toBe(expected)
  })

  const subject = fc.array(fc.oneof(anyUnicode, hostile), { minLength: 1, maxLength: 6 }).map((vs) => topic('evt', ...vs))

  it('matches a subject against itself, and `>` after any prefix of it (property)', () => {
    fc.assert(
      fc.property(subject, fc.nat(), (s, k) => {
        expect(matchTopic(s, s)).toBe(true)
        const tokens = s.split('.')
        const cut = k % tokens.length
        expect(matchTopic([...tokens.slice(0, cut), '>'].join('.'), s)).toBe(true)
        expect(matchTopic(tokens.map(() => '*').join('.'), s)).toBe(true)
        expect(matchTopic([...tokens, '*'].join('.'), s)).toBe(false)
      }),
    )
  })
})

describe('isValidPattern', () => {
  it.each([
    ['a.b.c', true],
    ['a.*.c', true],
    ['a.>', true],
    ['>', true],
    ['*', true],
    ['a.>.c', false],
    ['>.a', false],
    ['', false],
    ['a..b', false],
    ['.a', false],
    ['a.', false],
    ['a b', false],
    ['a.\t', false],
  ] as const)('%j → %s', (pattern, valid) => {
    expect(isValidPattern(pattern)).toBe(valid)
  })
})
