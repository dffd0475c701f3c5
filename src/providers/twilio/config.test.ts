import { describe, expect, it } from 'vitest'
import { basicAuthHeader, TwilioConfigSchema } from './config.js'
import { restErrorCode, TWILIO_ERROR_TABLE } from './errors.js'

const SID = 'AC0123456789abcdef0123456789abcdef'
const KEY = 'SK0123456789abcdef0123456789abcdef'

describe('TwilioConfigSchema', () => {
  it('defaults base_url to https://api.twilio.com', () => {
    expect(TwilioConfigSchema.parse({ account_sid: SID, auth_token: 't' }).base_url).toBe('https://api.twilio.com')
  })

  it('accepts an API key pair without an auth token', () => {
    expect(TwilioConfigSchema.safeParse({ account_sid: SID, api_key_sid: KEY, api_key_secret: 's' }).success).toBe(true)
  })

  it.each<[Record<string, unknown>, string]>([
    [{ account_sid: SID }, 'no credentials'],
    [{ account_sid: SID, api_key_sid: KEY }, 'key without secret'],
    [{ account_sid: SID, auth_token: 't', api_key_secret: 's' }, 'secret without key'],
    [{ account_sid: KEY, auth_token: 't' }, 'API key SID in place of the Account SID'],
    [{ account_sid: SID, auth_token: 't', base_url: 'ftp://x' }, 'non-http base_url'],
    [{ account_sid: SID, auth_token: 't', messaging_service_sid: 'MG1' }, 'short MessagingServiceSid'],
  ])('refuses %j (%s)', (input) => {
    expect(TwilioConfigSchema.safeParse(input).success).toBe(false)
  })

  it('builds Basic auth from the API key when there is one, else from SID + token', () => {
    const both = TwilioConfigSchema.parse({ account_sid: SID, auth_token: 't', api_key_sid: KEY, api_key_secret: 's' })
    expect(basicAuthHeader(both)).toBe(`Basic ${Buffer.from(`${KEY}:s`).toString('base64')}`)
    const token = TwilioConfigSchema.parse({ account_sid: SID, auth_token: 't' })
    expect(basicAuthHeader(token)).toBe(`Basic ${Buffer.from(`${SID}:t`).toString('base64')}`)
  })
})

describe('TWILIO_ERROR_TABLE (DESIGN §6, twilio.md §5)', () => {
  it.each([
    ['63003', 'recipient_not_on_whatsapp'],
    ['63024', 'recipient_not_on_whatsapp'],
    ['63016', 'outside_window'],
    ['21610', 'recipient_opted_out'],
    ['63018', 'throttled'],
    ['20429', 'throttled'],
    ['63049', 'policy_rejected'],
    ['21211', 'invalid_request'],
    ['20003', 'auth_failed'],
    ['63019', 'media_unreachable'],
    ['63034', 'media_too_large'],
    ['63027', 'template_invalid'],
    ['30500', 'transient'],
  ])('%s → %s', (code, normalized) => {
    expect(TWILIO_ERROR_TABLE[code]).toBe(normalized)
  })

  it('falls back to the HTTP status for codes it does not know', () => {
    expect(restErrorCode(500, 12345)).toBe('transient')
    expect(restErrorCode(502, undefined)).toBe('transient')
    expect(restErrorCode(401, undefined)).toBe('auth_failed')
    expect(restErrorCode(400, 12345)).toBe('unknown')
    expect(restErrorCode(400, 21610)).toBe('recipient_opted_out')
  })
})
