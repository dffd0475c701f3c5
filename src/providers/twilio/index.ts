import type { ProviderAdapter } from '../types.js'
import { twilioCapabilities } from './capabilities.js'
import { redactTwilioConfig, TwilioConfigSchema, type TwilioConfig } from './config.js'
import { parseTwilioRequest } from './parse.js'
import { sendTwilioMessage } from './send.js'
import { verifyTwilioRequest } from './verify.js'

export { TwilioConfigSchema, type TwilioConfig } from './config.js'
export { TWILIO_ERROR_TABLE, normalizeTwilioError } from './errors.js'
export { twilioSignature, urlVariants } from './verify.js'

/**
 * The Twilio adapter: WhatsApp (`whatsapp:` addresses) and SMS (account channel `sms`) through the
 * Programmable Messaging API, with `X-Twilio-Signature` webhooks.
 *
 * @example
 * const twilio = createTwilioAdapter()
 * const config = twilio.configSchema.parse({ account_sid: 'AC…', auth_token: '…' })
 * const result = await twilio.send({ ...account, config }, message, { timeoutMs: 10_000 })
 */
export function createTwilioAdapter(): ProviderAdapter<TwilioConfig> {
  return {
    id: 'twilio',
    configSchema: TwilioConfigSchema,
    capabilities: twilioCapabilities,
    send: sendTwilioMessage,
    verify: verifyTwilioRequest,
    parse: parseTwilioRequest,
    redact: redactTwilioConfig,
  }
}
