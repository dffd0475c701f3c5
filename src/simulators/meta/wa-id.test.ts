import { describe, expect, it } from 'vitest'
import { isBsuid, isNotOnWhatsApp, looksLikePhone, waIdFor } from './wa-id.js'

describe('waIdFor', () => {
  it('drops the Brazilian mobile ninth digit (fixture send-response-wa_id-mismatch-brazil.json)', () => {
    expect(waIdFor('5511987654321')).toBe('551187654321')
    expect(waIdFor('+55 11 98765-4321')).toBe('551187654321')
  })
  it('keeps Brazilian numbers that are already 12 digits', () => {
    expect(waIdFor('551187654321')).toBe('551187654321')
  })
  it('drops the Mexican 1 after the country code', () => {
    expect(waIdFor('+5215512345678')).toBe('525512345678')
    expect(waIdFor('525512345678')).toBe('525512345678')
  })
  it('gives other numbers as their digits', () => {
    expect(waIdFor('+16505551234')).toBe('16505551234')
  })
})

describe('identifiers', () => {
  it('recognises business-scoped user ids and parent ids, not phones', () => {
    expect(isBsuid('US.13491208655302741918')).toBe(true)
    expect(isBsuid('US.ENT.11815799212886844830')).toBe(true)
    expect(isBsuid('16505551234')).toBe(false)
    expect(isBsuid('us.1234')).toBe(false)
  })
  it('accepts plausible phones only', () => {
    expect(looksLikePhone('+1 (650) 555-1234')).toBe(true)
    expect(looksLikePhone('hello')).toBe(false)
    expect(looksLikePhone('123')).toBe(false)
  })
  it('treats numbers ending in 0000 as not on WhatsApp', () => {
    expect(isNotOnWhatsApp('+15550000000')).toBe(true)
    expect(isNotOnWhatsApp('+15550001234')).toBe(false)
  })
})
