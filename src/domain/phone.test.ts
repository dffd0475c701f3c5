import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { digits, isUserId, parsePhone, parseRecipient, urn } from './phone.js'

describe('parseRecipient', () => {
  it.each([
    // E.164 input keeps its digits (written with spaces/dashes/parentheses or not)
    ['+5535987654321', undefined, '+5535987654321'],
    ['+55 (35) 98765-4321', undefined, '+5535987654321'],
    ['+44 7911 123456', 'BR', '+447911123456'],
    ['  +1 415-555-2671  ', undefined, '+14155552671'],
    // National numbers use the default country (DESIGN §7; module example)
    ['35 98765-4321', 'BR', '+5535987654321'],
    ['(35) 98765-4321', 'br', '+5535987654321'],
    ['07911 123456', 'GB', '+447911123456'],
    ['415-555-2671', 'US', '+14155552671'],
    ['(415) 555-2671', 'US', '+14155552671'],
    // tel: URNs are numbers too
    ['tel:+5535987654321', undefined, '+5535987654321'],
    ['tel:35987654321', 'BR', '+5535987654321'],
  ] as const)('%j (country %s) → phone %s', (input, country, e164) => {
    expect(parseRecipient(input, country)).toEqual({ ok: true, kind: 'phone', e164 })
  })

  it('refuses a national number without a country, naming both ways to fix it', () => {
    const r = parseRecipient('35 98765-4321')
    expect(r.ok).toBe(false)
    if (!r.ok) {
      expect(r.reason).toContain('+<country code>')
      expect(r.reason).toContain('default_country')
    }
  })

  it.each([
    ['whatsapp:5535987654321', '5535987654321'],
    ['whatsapp:+5535987654321', '5535987654321'],
  ])('%s → wa_id %s (digits only)', (input, waId) => {
    expect(parseRecipient(input)).toEqual({ ok: true, kind: 'wa_id', waId })
  })

  it.each([
    ['US.13491208655302741918', 'US.13491208655302741918'],
    ['US.1234', 'US.1234'],
    ['US.ENT.123', 'US.ENT.123'],
    ['wauser:US.ENT.11815799212886844830', 'US.ENT.11815799212886844830'],
    ['wauser:BR.abcDEF123', 'BR.abcDEF123'],
  ])('%s → user_id %s, never a phone', (input, userId) => {
    expect(parseRecipient(input, 'US')).toEqual({ ok: true, kind: 'user_id', userId })
  })

  it.each([
    ['', 'BR'],
    ['hello', 'BR'],
    ['+', undefined],
    ['+1 555 0000', undefined], // too short for NANP
    ['+999 1234 5678', undefined], // no such country code
    ['12345', 'BR'],
    ['+5535987654321x', undefined],
    ['whatsapp:abc', undefined],
    ['whatsapp:123', undefined],
    ['whatsapp:', undefined],
    ['wauser:5535987654321', undefined],
    ['wauser:', undefined],
    ['us.1234', 'US'],
    ['USA.1234', 'US'],
    ['US.ENT.', 'US'],
    ['tel:US.1234', 'US'],
    ['2025550123', 'XX'], // a country code that does not exist is an error, not a throw
    ['+55 35 98765-4321; DROP TABLE', undefined],
  ] as const)('refuses %j (country %s) with a reason', (input, country) => {
    const r = parseRecipient(input, country)
    expect(r.ok).toBe(false)
    if (!r.ok) expect(r.reason.length).toBeGreaterThan(0)
  })

  const bsuid = fc
    .tuple(
      fc.stringMatching(/^[A-Z]{2}$/),
      fc.boolean(),
      fc.stringMatching(/^[A-Za-z0-9]{1,40}$/),
    )
    .map(([cc, ent, rest]) => `${cc}.${ent ? 'ENT.' : ''}${rest}`)

  it('never reads a BSUID-shaped value as a phone, with or without prefix or default country (property)', () => {
    fc.assert(
      fc.property(bsuid, fc.constantFrom(undefined, 'US', 'BR', 'GB'), fc.constantFrom('', 'wauser:', ' '), (id, country, prefix) => {
        expect(isUserId(id)).toBe(true)
        expect(parseRecipient(`${prefix}${id}`, country)).toEqual({ ok: true, kind: 'user_id', userId: id })
        // Even dressed up as a number it must not become one
        const asTel = parseRecipient(`tel:${id}`, country)
        expect(asTel.ok && asTel.kind === 'phone').toBe(false)
      }),
      { numRuns: 1000 },
    )
  })

  it('never throws on arbitrary input (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 40 }), fc.option(fc.string({ maxLength: 3 }), { nil: undefined }), (input, country) => {
        const r = parseRecipient(input, country)
        if (r.ok && r.kind === 'phone') expect(r.e164).toMatch(/^\+[1-9]\d{6,14}$/)
        if (r.ok && r.kind === 'wa_id') expect(r.waId).toMatch(/^\d+$/)
      }),
      { numRuns: 1000 },
    )
  })
})

describe('parsePhone', () => {
  it('refuses a number that has the right length but is not a valid line (max metadata)', () => {
    // +1 000 … : NANP area codes never start with 0
    expect(parsePhone('+1 011 555 2671').ok).toBe(false)
  })
})

describe('urn and digits', () => {
  it('builds the contact model URNs', () => {
    expect(urn.tel('+5535987654321')).toBe('tel:+5535987654321')
    expect(urn.whatsapp('5535987654321')).toBe('whatsapp:5535987654321')
    expect(urn.wauser('US.1234')).toBe('wauser:US.1234')
  })

  it('keeps digits only', () => {
    expect(digits('+55 (35) 98765-4321')).toBe('5535987654321')
  })
})
