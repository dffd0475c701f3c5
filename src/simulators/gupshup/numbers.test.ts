import { describe, expect, it } from 'vitest'
import { isNotOnWhatsapp, senderParts, whatsappIdFor } from './numbers.js'
import { resolveTimings } from './state.js'

describe('whatsappIdFor', () => {
  it('drops the ninth digit of Brazilian mobiles only', () => {
    expect(whatsappIdFor('5535987654321')).toBe('553587654321')
    expect(whatsappIdFor('+55 11 91234-5678')).toBe('551112345678')
    expect(whatsappIdFor('553587654321')).toBe('553587654321') // already the wa_id
    expect(whatsappIdFor('551133334444')).toBe('551133334444') // landline
    expect(whatsappIdFor('919876543210')).toBe('919876543210')
  })
})

describe('isNotOnWhatsapp', () => {
  it('is true only for numbers ending in 0000', () => {
    expect(isNotOnWhatsapp('+91 98000 00000')).toBe(true)
    expect(isNotOnWhatsapp('919800000001')).toBe(false)
  })
})

describe('senderParts', () => {
  it('splits country calling code and national number', () => {
    expect(senderParts('919876543210')).toEqual({ country_code: '91', dial_code: '9876543210' })
    expect(senderParts('14155550123')).toEqual({ country_code: '1', dial_code: '4155550123' })
  })
})

describe('resolveTimings', () => {
  it('keeps the status steps strictly ordered', () => {
    const t = resolveTimings({ enqueuedMs: 10, sentMs: 0, deliveredMs: 0, readMs: 0 })
    expect(t.enqueuedMs).toBeLessThan(t.sentMs)
    expect(t.sentMs).toBeLessThan(t.deliveredMs)
    expect(t.deliveredMs).toBeLessThan(t.readMs)
    expect(resolveTimings()).toMatchObject({ sentMs: 20, deliveredMs: 60, readMs: 120 })
  })
})
