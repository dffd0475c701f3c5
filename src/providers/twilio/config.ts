import { z } from 'zod'

/**
 * Twilio account configuration (DESIGN §11). Credentials are either the Account SID + Auth Token,
 * or an API Key SID + secret. With an API key the Account SID still goes in the request path, and
 * Twilio still signs webhooks with the account's Auth Token, so an account that must receive
 * webhooks needs `auth_token` even when it sends with an API key.
 *
 * @example
 * const config = TwilioConfigSchema.parse({ account_sid: 'AC' + 'a'.repeat(32), auth_token: 'secret' })
 * config.base_url // 'https://api.twilio.com'
 */

// Patterns from the official OpenAPI spec (twilio-oai, api_v2010): AccountSid, MessagingServiceSid.
const ACCOUNT_SID = /^AC[0-9a-fA-F]{32}$/
const API_KEY_SID = /^SK[0-9a-fA-F]{32}$/
const MESSAGING_SERVICE_SID = /^MG[0-9a-fA-F]{32}$/

const secret = z.string().min(1).max(512)

export const TwilioConfigSchema = z
  .object({
    account_sid: z.string().regex(ACCOUNT_SID, 'account_sid must look like AC followed by 32 hex digits'),
    auth_token: secret.optional(),
    api_key_sid: z.string().regex(API_KEY_SID, 'api_key_sid must look like SK followed by 32 hex digits').optional(),
    api_key_secret: secret.optional(),
    base_url: z
      .url({ protocol: /^https?$/ })
      .default('https://api.twilio.com')
      .transform((url) => url.replace(/\/+$/, '')),
    messaging_service_sid: z
      .string()
      .regex(MESSAGING_SERVICE_SID, 'messaging_service_sid must look like MG followed by 32 hex digits')
      .optional(),
  })
  .refine((c) => (c.api_key_sid === undefined) === (c.api_key_secret === undefined), {
    message: 'give api_key_sid and api_key_secret together',
    path: ['api_key_secret'],
  })
  .refine((c) => c.auth_token !== undefined || (c.api_key_sid !== undefined && c.api_key_secret !== undefined), {
    message: 'give auth_token, or api_key_sid with api_key_secret',
    path: ['auth_token'],
  })

export type TwilioConfig = z.infer<typeof TwilioConfigSchema>

/**
 * The HTTP Basic credentials for the REST API. The API key wins when both are configured: it can be
 * revoked on its own, while the Auth Token stays for webhook signatures only.
 *
 * @example
 * basicAuthHeader({ account_sid: 'AC…', auth_token: 't', base_url: '…' }) // 'Basic QUPigKY6dA=='
 */
export function basicAuthHeader(config: TwilioConfig): string {
  const [user, password] =
    config.api_key_sid !== undefined && config.api_key_secret !== undefined
      ? [config.api_key_sid, config.api_key_secret]
      : [config.account_sid, config.auth_token ?? '']
  return `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`
}

/** Config values that must never reach logs or API responses. */
export function redactTwilioConfig(config: TwilioConfig): string[] {
  return [config.auth_token, config.api_key_secret].filter((v): v is string => typeof v === 'string' && v.length > 0)
}
