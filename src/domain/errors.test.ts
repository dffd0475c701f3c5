import { describe, expect, it } from 'vitest'
import { ERROR_CODES, ERROR_KINDS, errorCodeForHttpStatus, isRetryable, normalizeProviderCode, SendError, throttleScopeOf, type ErrorCode } from './errors.js'

// DESIGN §6: only throttled, pair_throttled and transient are retried.
describe('error kinds', () => {
  it('retries exactly throttled, pair_throttled and transient', () => {
    expect(ERROR_CODES.filter(isRetryable).sort()).toEqual(['pair_throttled', 'throttled', 'transient'])
  })

  it('slows the account on throttled and the recipient on pair_throttled', () => {
    expect(throttleScopeOf('throttled')).toBe('account')
    expect(throttleScopeOf('pair_throttled')).toBe('recipient')
    expect(throttleScopeOf('transient')).toBeUndefined()
  })

  it('marks the URN unreachable for recipient_not_on_whatsapp', () => {
    expect(ERROR_KINDS.recipient_not_on_whatsapp.action).toBe('mark_urn_unreachable')
  })
})

describe('normalizeProviderCode', () => {
  const table: Record<string, ErrorCode> = { '131026': 'recipient_not_on_whatsapp', '130429': 'throttled', RATE_LIMITED: 'throttled' }

  it('maps a known code (number or string) and keeps the provider code and message beside it', () => {
    expect(normalizeProviderCode(table, 131026, 'Message undeliverable')).toEqual({
      code: 'recipient_not_on_whatsapp',
      retryable: false,
      provider_code: '131026',
      provider_message: 'Message undeliverable',
    })
    expect(normalizeProviderCode(table, 'RATE_LIMITED')).toEqual({ code: 'throttled', retryable: true, provider_code: 'RATE_LIMITED' })
  })

  it('turns an unmapped code into unknown, keeping the raw code', () => {
    expect(normalizeProviderCode(table, 99999)).toEqual({ code: 'unknown', retryable: false, provider_code: '99999' })
    expect(normalizeProviderCode(table, undefined)).toEqual({ code: 'unknown', retryable: false })
  })

  it.each(['constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf'])('does not find Object.prototype’s %s', (key) => {
    const r = normalizeProviderCode(table, key)
    expect(r).toEqual({ code: 'unknown', retryable: false, provider_code: key })
  })
})

describe('SendError', () => {
  it('derives retryable and throttle from the code and serializes without undefined fields', () => {
    const e = new SendError({ code: 'throttled', providerCode: 130429, providerMessage: 'Rate limit hit', httpStatus: 429, retryAfterMs: 2000 })
    expect(e.retryable).toBe(true)
    expect(e.throttle).toBe('account')
    expect(e.providerCode).toBe('130429')
    expect(e.message).toBe('throttled (provider code 130429): Rate limit hit')
    expect(e.maybeDelivered).toBe(false)
    expect(e.toNormalized()).toEqual({ code: 'throttled', retryable: true, provider_code: '130429', provider_message: 'Rate limit hit' })
    expect(new SendError({ code: 'unknown' }).toNormalized()).toEqual({ code: 'unknown', retryable: false })
  })
})

describe('errorCodeForHttpStatus', () => {
  it.each([
    [429, 'throttled'],
    [401, 'auth_failed'],
    [403, 'auth_failed'],
    [500, 'transient'],
    [503, 'transient'],
    [408, 'transient'],
    [400, 'unknown'],
    [404, 'unknown'],
  ] as const)('%i → %s', (status, code) => {
    expect(errorCodeForHttpStatus(status)).toBe(code)
  })
})
