import twilio from 'twilio'
import type { AccountContext, Channel, RawRequest } from '../types.js'
import { TwilioConfigSchema, type TwilioConfig } from './config.js'

/**
 * Test-only helpers shared by this folder's tests. The signer is the official `twilio` package
 * (a dev dependency), so the adapter's own signature code is never its own oracle.
 */

export const TEST_ACCOUNT_SID = 'AC0123456789abcdef0123456789abcdef'
export const TEST_AUTH_TOKEN = 'test-auth-token-1'
export const TEST_WEBHOOK_URL = 'https://gw.example.com/webhooks/twilio/tw-main'

/**
 * @example
 * testAccount({ channel: 'sms' }).config.account_sid // TEST_ACCOUNT_SID
 */
export function testAccount(
  overrides: { channel?: Channel; config?: Record<string, unknown>; phoneNumber?: string; webhookUrl?: string } = {},
): AccountContext<TwilioConfig> {
  return {
    id: 'acc_twilio_1',
    name: 'tw-main',
    provider: 'twilio',
    channel: overrides.channel ?? 'whatsapp',
    phoneNumber: overrides.phoneNumber ?? '+14123456789',
    config: TwilioConfigSchema.parse({ account_sid: TEST_ACCOUNT_SID, auth_token: TEST_AUTH_TOKEN, ...overrides.config }),
    webhookUrl: overrides.webhookUrl ?? TEST_WEBHOOK_URL,
  }
}

/** A form body's params the way the twilio package takes them (repeated keys as arrays). */
export function paramsRecord(body: Buffer | string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = Object.create(null) as Record<string, string | string[]>
  for (const [key, value] of new URLSearchParams(body.toString())) {
    const seen = out[key]
    out[key] = seen === undefined ? value : Array.isArray(seen) ? [...seen, value] : [seen, value]
  }
  return out
}

/** A form-encoded webhook request as Twilio would POST it, unsigned. */
export function formRequest(body: Buffer | string, url = TEST_WEBHOOK_URL): RawRequest {
  return {
    method: 'POST',
    url,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8'),
  }
}

/** Signs with the twilio package over `signedUrl` (defaults to the request's own URL). */
export function signWithTwilioSdk(req: RawRequest, authToken = TEST_AUTH_TOKEN, signedUrl = req.url): RawRequest {
  const params = req.headers['content-type']?.includes('json') ? {} : paramsRecord(req.body)
  const signature = twilio.getExpectedTwilioSignature(authToken, signedUrl, params)
  return { ...req, headers: { ...req.headers, 'x-twilio-signature': signature } }
}
