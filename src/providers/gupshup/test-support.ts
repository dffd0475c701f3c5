import type { AccountContext } from '../types.js'
import { GupshupConfigSchema, type GupshupConfig } from './config.js'

/** Shared by this folder's tests: an account the way the gateway would hand it over. */
export const TEST_TOKEN = 'tok_3f9a7c1e5b2d4f6a8c0e1b3d5f7a9c2e'
export const WEBHOOK_BASE = 'http://gw.test/webhooks/gupshup/acme'

export function testAccount(overrides: Partial<Record<keyof GupshupConfig, string>> = {}): AccountContext<GupshupConfig> {
  const config = GupshupConfigSchema.parse({
    api_key: 'gs-api-key-0123456789',
    app_name: 'DemoApp',
    webhook_token: TEST_TOKEN,
    ...overrides,
  })
  return {
    id: 'acc_1',
    name: 'acme',
    provider: 'gupshup',
    channel: 'whatsapp',
    phoneNumber: '+917834811114',
    config,
    webhookUrl: `${WEBHOOK_BASE}/${TEST_TOKEN}`,
  }
}
