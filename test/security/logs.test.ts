import { createHmac, randomBytes } from 'node:crypto'
import { request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startCaptureServer, type CaptureServer } from '../harness/capture-server.js'
import { startTestGateway, type TestGateway } from '../harness/gateway.js'
import { KnownSecrets } from '../harness/secret-scan.js'
import { metaSandbox, twilioSandbox } from '../../src/sandbox.js'
import { metaInbound, postMeta } from './helpers.js'

/**
 * Issue 7, security: no secret reaches the log. Every end-to-end suite gets the scan from
 * `startTestGateway().close()`; this one logs at `debug` (request URLs, worker and dispatcher
 * detail) through a full send and receive on all four providers, a subscription delivery,
 * refused webhooks and the URL-borne tokens (Gupshup's path token, Meta's hub.verify_token, a
 * Sinch `?token=`), then scans. The scan itself is tested first: it must find a planted secret and
 * say which kind without printing it.
 */

describe('the log scan (test harness)', () => {
  it('names the kind of a leaked secret, never its value, and passes clean logs', () => {
    const known = new KnownSecrets()
    const value = `wg_${randomBytes(16).toString('hex')}`
    known.add('API key', value)
    known.addConfig('account x', { auth_token: 'tok-0123456789', phone_number_id: '123456789012' })
    expect(known.size).toBe(2)
    expect(() => known.scan(['{"msg":"fine"}', '{"msg":"[redacted]"}'])).not.toThrow()
    let message = ''
    try {
      known.scan(['{"msg":"ok"}', `{"url":"/x?key=${value}"}`])
    } catch (err) {
      message = (err as Error).message
    }
    expect(message).toMatch(/secret leak: .*the API key \(log line 2 of 2\)/)
    expect(message).not.toContain(value)
    expect(() => known.scan([JSON.stringify({ m: 'tok-0123456789' })])).toThrow(/account x auth_token/)
  })
})

describe('a debug-level run through all four providers logs no secret (issue 7)', () => {
  let t: TestGateway
  let receiver: CaptureServer
  const sinchToken = `sinch-url-token-${randomBytes(8).toString('hex')}`

  beforeAll(async () => {
    // No masking: the scan sees what the code wrote, not what the logger's mask list caught.
    t = await startTestGateway({ env: { WAGATE_LOG_LEVEL: 'debug' }, maskSecrets: false })
    receiver = await startCaptureServer(() => ({ status: 200 }))
  })
  afterAll(async () => {
    await receiver?.close()
    // The scan runs here, over every line of the run; a leak fails the suite naming the secret kind.
    await t?.close()
  })

  it('sends and receives on every provider, delivers to a subscription, refuses forgeries', async () => {
    const sub = await t.api('POST', '/v1/subscriptions', { url: `${receiver.url}/hooks`, topics: ['>'] })
    expect(sub.json.secret).toMatch(/^whsec_/)
    const sent: string[] = []
    for (const account of t.sandbox.accounts) {
      const name = account.row.name
      const res = await t.api('POST', '/v1/messages', { account: name, to: '+14155550123', type: 'text', text: `hello from ${name}` })
      expect(res.status, res.text).toBe(202)
      sent.push(res.json.id)
      const media = await t.api('POST', '/v1/messages', { account: name, to: '+14155550123', type: 'image', media: { url: 'http://127.0.0.1:9/pic.jpg', caption: 'pic' } })
      expect(media.status, media.text).toBe(202)
      sent.push(media.json.id)
      expect((await t.api('POST', `/sandbox/${name}/inbound`, { from: '+14155550124', text: `hi ${name}` })).status).toBe(202)
    }
    for (const id of sent) {
      await t.waitFor(async () => ['read', 'failed'].includes((await t.api('GET', `/v1/messages/${id}`)).json.status), 20_000, `message ${id} to end`)
    }
    await t.waitFor(async () => (await t.api('GET', '/v1/events?type=message.inbound&limit=100')).json.data.length >= t.sandbox.accounts.length, 20_000, 'inbound events')
    await t.waitFor(async () => receiver.requests.length > 5, 20_000, 'subscription deliveries')

    // Refused and URL-authenticated webhooks: their secrets travel in headers and URLs.
    const meta = await t.gw.accounts.get(t.gw.tenantId, 'sandbox-meta')
    const body = metaInbound(String(meta.rawConfig.phone_number_id), '14155550125', 'forged')
    expect((await postMeta(t, '/webhooks/meta/sandbox-meta', body, 'wrong-secret')).status).toBe(401)
    const verify = String(meta.rawConfig.verify_token)
    const hs = await request(`${t.url}/webhooks/meta/sandbox-meta?hub.mode=subscribe&hub.verify_token=${encodeURIComponent(verify)}&hub.challenge=42`)
    expect(hs.statusCode).toBe(200)
    await hs.body.text()
    const gupshup = await t.gw.accounts.get(t.gw.tenantId, 'sandbox-gupshup')
    const gsBad = await request(`${t.url}/webhooks/gupshup/sandbox-gupshup/${String(gupshup.rawConfig.webhook_token)}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"not":"a callback"}' })
    expect(gsBad.statusCode).toBe(400)
    await gsBad.body.text()

    // A Sinch account that also wants a URL token (sinch.md §3): the token must not be logged with the URL.
    const sinch = await t.gw.accounts.get(t.gw.tenantId, 'sandbox-sinch')
    const patched = await t.api('PATCH', '/v1/accounts/sandbox-sinch', { config: { webhook_token: sinchToken } })
    expect(patched.status, patched.text).toBe(200)
    t.secrets.add('sandbox-sinch webhook_token', sinchToken)
    const sinchBody = JSON.stringify({ app_id: String(sinch.rawConfig.app_id), accepted_time: new Date().toISOString(), message: { id: `01SEC${Date.now()}`, direction: 'TO_APP', contact_message: { text_message: { text: 'sinch token' } }, channel_identity: { channel: 'WHATSAPP', identity: '14155550126', app_id: '' } } })
    const nonce = 'n1'
    const ts = String(Math.floor(Date.now() / 1000))
    const signature = createHmac('sha256', String(sinch.rawConfig.webhook_secret)).update(`${sinchBody}.${nonce}.${ts}`).digest('base64')
    const sinchRes = await request(`${t.url}/webhooks/sinch/sandbox-sinch?token=${sinchToken}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-sinch-webhook-signature': signature, 'x-sinch-webhook-signature-nonce': nonce, 'x-sinch-webhook-signature-timestamp': ts },
      body: sinchBody,
    })
    expect(sinchRes.statusCode, await sinchRes.body.text()).toBe(200)

    // The scan is meaningful: a long debug log, with request URLs in it, and every secret kind known.
    expect(t.logs.length).toBeGreaterThan(100)
    expect(t.logs.filter((l) => l.includes('"msg":"incoming request"')).length).toBeGreaterThan(20)
    expect(t.logs.some((l) => l.includes('/webhooks/gupshup/sandbox-gupshup/[redacted]'))).toBe(true)
    expect(t.logs.some((l) => l.includes('/webhooks/sinch/sandbox-sinch?token=[redacted]'))).toBe(true)
    expect(t.logs.some((l) => l.includes('hub.verify_token=[redacted]'))).toBe(true)
    expect(t.secrets.size).toBeGreaterThanOrEqual(12)
    expect(() => t.secrets.scan(t.logs)).not.toThrow()
  })
})

describe('the logger masks credentials as well as API keys (defence in depth)', () => {
  it('a line that carries an account credential or the API key is written with [redacted] instead', async () => {
    const t = await startTestGateway({ sandboxes: (timings) => [metaSandbox(timings), twilioSandbox(timings)] })
    try {
      const meta = await t.gw.accounts.get(t.gw.tenantId, 'sandbox-meta')
      const twilio = await t.gw.accounts.get(t.gw.tenantId, 'sandbox-twilio')
      const planted = [String(meta.rawConfig.access_token), String(meta.rawConfig.app_secret), String(twilio.rawConfig.auth_token), t.apiKey]
      t.gw.logger.warn({ provider_said: `bad token ${planted[0]}`, nested: { list: planted.slice(1) } }, `planted ${planted[2]}`)
      const line = t.logs.find((l) => l.includes('planted')) as string
      expect(line).toBeDefined()
      for (const value of planted) expect(line).not.toContain(value)
      expect(line.split('[redacted]').length - 1).toBeGreaterThanOrEqual(planted.length)
    } finally {
      await t.close()
    }
  })
})
