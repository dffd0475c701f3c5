import { describe, expect, it } from 'vitest'
import { normalizeReason, retryAfterMs, sendErrorFromHttp } from './errors.js'

describe('sinch reason codes (DESIGN §6)', () => {
  it.each([
    ['RECIPIENT_NOT_REACHABLE', 'recipient_not_on_whatsapp', false],
    ['NO_CHANNEL_IDENTITY_FOR_CONTACT', 'recipient_not_on_whatsapp', false],
    ['OUTSIDE_ALLOWED_SENDING_WINDOW', 'outside_window', false],
    ['RECIPIENT_NOT_OPTED_IN', 'recipient_opted_out', false],
    ['RATE_LIMITED', 'throttled', true],
    ['DELIVERY_TIMED_OUT', 'transient', true],
    ['CHANNEL_REJECT', 'transient', true],
    ['TEMPLATE_NOT_FOUND', 'template_invalid', false],
    ['TEMPLATE_INSUFFICIENT_PARAMETERS', 'template_invalid', false],
    ['TEMPLATE_NON_EXISTING_LANGUAGE_OR_VERSION', 'template_invalid', false],
    ['TEMPLATE_SOMETHING_ADDED_LATER', 'template_invalid', false],
    ['DELIVERY_REJECTED_DUE_TO_POLICY', 'policy_rejected', false],
    ['INACTIVE_CREDENTIAL', 'auth_failed', false],
    ['CHANNEL_BAD_CONFIGURATION', 'config_error', false],
    ['MEDIA_TOO_LARGE', 'media_too_large', false],
    ['NOT_A_REAL_CODE', 'unknown', false],
  ])('%s → %s', (providerCode, code, retryable) => {
    expect(normalizeReason({ code: providerCode, description: 'why' })).toEqual({ code, retryable, provider_code: providerCode, provider_message: 'why' })
  })

  it('the INACTIVE_SENDER sub-code marks the account restricted whatever the code', () => {
    expect(normalizeReason({ code: 'CHANNEL_REJECT', sub_code: 'INACTIVE_SENDER' })).toMatchObject({ code: 'account_restricted', retryable: false, provider_code: 'CHANNEL_REJECT' })
  })

  it('UNSPECIFIED_SUB_CODE changes nothing', () => {
    expect(normalizeReason({ code: 'OUTSIDE_ALLOWED_SENDING_WINDOW', sub_code: 'UNSPECIFIED_SUB_CODE' }).code).toBe('outside_window')
  })
})

describe('sinch HTTP errors', () => {
  it.each([
    [400, 'INVALID_ARGUMENT', 'invalid_request'],
    [401, 'UNAUTHENTICATED', 'auth_failed'],
    [403, 'PERMISSION_DENIED', 'auth_failed'],
    [404, 'NOT_FOUND', 'config_error'],
    [429, 'RESOURCE_EXHAUSTED', 'throttled'],
    [500, 'INTERNAL', 'transient'],
    [503, 'UNAVAILABLE', 'transient'],
  ])('%i %s → %s', (status, rpc, code) => {
    const err = sendErrorFromHttp(status, JSON.stringify({ error: { code: status, message: 'm', status: rpc } }), undefined, 0)
    expect(err).toMatchObject({ code, providerCode: rpc, providerMessage: 'm', httpStatus: status })
  })

  it('falls back to the HTTP status when the body is not a Sinch error', () => {
    expect(sendErrorFromHttp(502, 'Bad Gateway', undefined, 0)).toMatchObject({ code: 'transient', providerCode: '502' })
    expect(sendErrorFromHttp(400, '', undefined, 0).code).toBe('invalid_request')
  })

  it('Retry-After in seconds or as an HTTP date', () => {
    expect(retryAfterMs('3', 0)).toBe(3000)
    expect(retryAfterMs('Thu, 01 Jan 1970 00:00:10 GMT', 4000)).toBe(6000)
    expect(retryAfterMs('soon', 0)).toBe(undefined)
  })
})
