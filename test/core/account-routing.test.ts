import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { TestGateway } from '../harness/gateway.js'
import { hubSignature, META, metaSecrets, postMetaWebhook, startMetaGateway, statusWebhook } from './helpers.js'

/**
 * Webhook routes resolve their account from memory (DESIGN §13, account cache): a secret rotated
 * with PATCH /v1/accounts must be the one checked from the very next webhook, on the per-account
 * URL and on the app-wide Meta URL alike; and a deleted account's URL must stop answering at once.
 */
describe('webhook routing after an account change', () => {
  let t: TestGateway
  let phoneNumberId: string
  let oldSecret: string
  beforeAll(async () => {
    t = await startMetaGateway()
    ;({ phoneNumberId, appSecret: oldSecret } = await metaSecrets(t))
  })
  afterAll(async () => t.close())

  const body = (n: number) => statusWebhook(phoneNumberId, `wamid.routing-${n}`, 'delivered', '14155550123', 1_700_000_000 + n)

  it('checks a PATCHed app secret from the next webhook on', async () => {
    // Warm the routing cache with the old secret on both URLs.
    for (const path of [`/webhooks/meta/${META}`, '/webhooks/meta']) {
      const ok = await postMetaWebhook(t, path, body(1), hubSignature(body(1), oldSecret))
      expect(ok.status, ok.text).toBe(200)
    }
    const newSecret = 'rotated-app-secret-0123456789abcdef'
    const patched = await t.api('PATCH', `/v1/accounts/${META}`, { config: { app_secret: newSecret } })
    expect(patched.status, patched.text).toBe(200)

    for (const path of [`/webhooks/meta/${META}`, '/webhooks/meta']) {
      const stale = await postMetaWebhook(t, path, body(2), hubSignature(body(2), oldSecret))
      expect(stale.status, `${path} with the old secret: ${stale.text}`).toBe(401)
      const fresh = await postMetaWebhook(t, path, body(3), hubSignature(body(3), newSecret))
      expect(fresh.status, `${path} with the new secret: ${fresh.text}`).toBe(200)
    }
  })

  it('stops routing to an account deleted in this process', async () => {
    const created = await t.api('POST', '/v1/accounts', {
      name: 'short-lived',
      provider: 'meta',
      phone_number: '+16505550199',
      config: { phone_number_id: '1065550199', access_token: 'EAAB-short-lived', app_secret: 'short-lived-secret' },
    })
    expect(created.status, created.text).toBe(201)
    const b = statusWebhook('1065550199', 'wamid.short-lived', 'delivered', '14155550123', 1_700_000_100)
    const before = await postMetaWebhook(t, '/webhooks/meta/short-lived', b, hubSignature(b, 'short-lived-secret'))
    expect(before.status, before.text).toBe(200)
    const removed = await t.api('DELETE', '/v1/accounts/short-lived')
    expect(removed.status, removed.text).toBe(204)
    const after = await postMetaWebhook(t, '/webhooks/meta/short-lived', b, hubSignature(b, 'short-lived-secret'))
    expect(after.status, after.text).toBe(404)
    expect(after.json.code ?? after.json.type, after.text).toMatch(/unknown_account/)
  })
})
