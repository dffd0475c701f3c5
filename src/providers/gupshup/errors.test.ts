import { describe, expect, it } from 'vitest'
import { ERROR_KINDS } from '../../domain/errors.js'
import { FAILURE_CODES, normalizeFailure, sendErrorFromResponse } from './errors.js'

describe('gupshup error tables (DESIGN §6, gupshup.md §3)', () => {
  it.each([
    ['1002', 'recipient_not_on_whatsapp'],
    ['470', 'outside_window'],
    ['131047', 'outside_window'],
    ['1012', 'recipient_opted_out'],
    ['1008', 'outside_window'],
    ['4001', 'throttled'],
    ['4002', 'transient'],
    ['500', 'transient'],
    ['1010', 'media_unreachable'],
    ['1011', 'media_too_large'],
  ])('maps %s to %s', (code, expected) => {
    expect(normalizeFailure(code, 'reason').code).toBe(expected)
    expect(normalizeFailure(Number(code), 'reason')).toMatchObject({ provider_code: code, provider_message: 'reason' })
  })

  it('keeps unmapped codes as unknown with the raw code', () => {
    expect(normalizeFailure(9999, 'odd')).toEqual({ code: 'unknown', retryable: false, provider_code: '9999', provider_message: 'odd' })
  })

  it('only names codes of the closed set', () => {
    for (const code of Object.values(FAILURE_CODES)) expect(Object.keys(ERROR_KINDS)).toContain(code)
  })

  it('classifies send answers by message first, then HTTP status', () => {
    expect(sendErrorFromResponse(401, 'Authentication Failed').code).toBe('auth_failed')
    expect(sendErrorFromResponse(200, 'authentication failed ').code).toBe('auth_failed')
    expect(sendErrorFromResponse(403, 'something else').code).toBe('auth_failed')
    expect(sendErrorFromResponse(503, undefined).code).toBe('transient')
    expect(sendErrorFromResponse(400, 'Unheard of').code).toBe('unknown')
  })
})
