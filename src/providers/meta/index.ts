import { timingSafeEqual } from 'node:crypto'
import type { ProviderAdapter } from '../types.js'
import { META_CAPABILITIES } from './capabilities.js'
import { metaConfigSchema, type MetaConfig } from './config.js'
import { metaRouteKeys, parseMetaWebhook } from './parse.js'
import { sendMetaMessage } from './send.js'
import { listMetaTemplates } from './templates.js'
import { signMetaBody, verifyMetaSignature } from './verify.js'

export { metaConfigSchema, type MetaConfig } from './config.js'
export { META_ERROR_CODES, normalizeMetaError } from './errors.js'
export { META_CAPABILITIES } from './capabilities.js'
export { buildMetaBody, type MetaMessageBody } from './body.js'
export { signMetaBody }

/** Meta's challenge is a number; anything else is not echoed back as a response body. */
const CHALLENGE_FORMAT = /^[A-Za-z0-9_.-]{1,256}$/

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given, 'utf8')
  const b = Buffer.from(expected, 'utf8')
  return a.length === b.length && timingSafeEqual(a, b)
}

/**
 * The Meta WhatsApp Cloud API adapter: sends through Graph `/<version>/<phone_number_id>/messages`,
 * verifies `X-Hub-Signature-256`, parses `whatsapp_business_account` webhooks and answers the
 * `hub.challenge` handshake.
 *
 * @example
 * const meta = createMetaAdapter()
 * const config = meta.configSchema.parse({ phone_number_id: '1065…', access_token: 'EAAG…', app_secret: '…', verify_token: '…' })
 * const result = await meta.send({ ...account, config }, message, { timeoutMs: 10_000 })
 */
export function createMetaAdapter(): ProviderAdapter<MetaConfig> {
  return {
    id: 'meta',
    configSchema: metaConfigSchema,
    capabilities: () => META_CAPABILITIES,
    send: (account, message, ctx) => sendMetaMessage(account.config, message, ctx),
    verify: (account, req) => verifyMetaSignature(account.config.app_secret, req),
    parse: (_account, req) => parseMetaWebhook(req),
    redact: (config) => [config.access_token, config.app_secret, config.verify_token].filter((v): v is string => Boolean(v)),
    handshake(account, query) {
      const expected = account.config.verify_token
      const given = query.get('hub.verify_token')
      const challenge = query.get('hub.challenge')
      if (!expected || given === null || challenge === null || !CHALLENGE_FORMAT.test(challenge)) return undefined
      if (query.get('hub.mode') !== 'subscribe') return undefined
      return sameSecret(given, expected) ? challenge : undefined
    },
    routeKeys: (req) => metaRouteKeys(req),
    routeKeyOf: (config) => config.phone_number_id,
    listTemplates: (account, ctx) => listMetaTemplates(account.config, ctx),
  }
}
