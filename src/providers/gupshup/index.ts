import type { ProviderAdapter } from '../types.js'
import { gupshupCapabilities } from './capabilities.js'
import { GupshupConfigSchema, type GupshupConfig } from './config.js'
import { parseGupshup } from './parse.js'
import { sendGupshup } from './send.js'
import { verifyGupshup } from './verify.js'

export { GupshupConfigSchema, type GupshupConfig } from './config.js'
export { FAILURE_CODES, GUPSHUP_CODES, SEND_ERROR_MESSAGES, WHATSAPP_CODES } from './errors.js'

/**
 * The Gupshup WhatsApp adapter (v1 send API, v2 callbacks). Callbacks are authenticated by the
 * `webhook_token` in their URL: `POST /webhooks/gupshup/{account}/{token}`.
 *
 * @example
 * const adapter = createGupshupAdapter()
 * const config = adapter.configSchema.parse({ api_key, app_name: 'DemoApp', webhook_token })
 * const result = await adapter.send({ ...account, config }, message, { timeoutMs: 10_000 })
 */
export function createGupshupAdapter(): ProviderAdapter<GupshupConfig> {
  return {
    id: 'gupshup',
    configSchema: GupshupConfigSchema,
    capabilities: gupshupCapabilities,
    send: (account, message, ctx) => sendGupshup(account, message, ctx),
    verify: (account, req) => verifyGupshup(account?.config, req),
    parse: (_account, req) => parseGupshup(req),
    redact: (config) => [config.api_key, config.webhook_token].filter((v) => v.length > 0),
  }
}
