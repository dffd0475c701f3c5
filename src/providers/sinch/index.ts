import type { ProviderAdapter } from '../types.js'
import { sinchCapabilities } from './capabilities.js'
import { SinchConfigSchema } from './config.js'
import type { SinchConfig } from './config.js'
import { parseCallback } from './parse.js'
import { sendMessage } from './send.js'
import { createTokenCache } from './token.js'
import { DEFAULT_REPLAY_WINDOW_MS, verifyCallback } from './verify.js'

export { SinchConfigSchema, type SinchConfig } from './config.js'
export { computeSignature } from './verify.js'

export interface SinchAdapterOptions {
  /** Clock (unix ms) for the replay window and token expiry; tests inject one. */
  now?: () => number
  /** How far a callback's signed timestamp may be from now (default 5 minutes). */
  replayWindowMs?: number
}

/**
 * The Sinch Conversation API (WhatsApp channel) adapter. Each adapter keeps its own OAuth token
 * cache, shared by every account that uses the same key.
 *
 * @example
 * const adapter = createSinchAdapter()
 * const config = adapter.configSchema.parse({ project_id, app_id, key_id, key_secret, region: 'eu', webhook_secret })
 * const result = await adapter.send({ ...account, config }, message, { timeoutMs: 10_000 })
 */
export function createSinchAdapter(options: SinchAdapterOptions = {}): ProviderAdapter<SinchConfig> {
  const now = options.now ?? Date.now
  const replayWindowMs = options.replayWindowMs ?? DEFAULT_REPLAY_WINDOW_MS
  const tokens = createTokenCache({ now })
  return {
    id: 'sinch',
    configSchema: SinchConfigSchema,
    capabilities: sinchCapabilities,
    send: (account, message, ctx) => sendMessage({ tokens }, account, message, ctx),
    verify: (account, req) => verifyCallback(account.config, req, { now, replayWindowMs }),
    parse: (_account, req) => parseCallback(req, { now }),
    redact: (config) => [config.key_secret, config.webhook_secret, config.webhook_token].filter((v): v is string => Boolean(v)),
  }
}
