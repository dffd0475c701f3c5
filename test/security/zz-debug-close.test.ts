import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestGateway, type TestGateway } from '../harness/gateway.js'
import { fingerprint } from '../fuzz/api-support.js'
import { settle } from './helpers.js'

/**
 * Issue 7, security: a media URL that points at a loopback, private, link-local or unspecified
 * address (in any spelling a URL parser accepts) is refused at the API with `media_url_refused`
 * and nothing is written — the provider would fetch it from its own network, or not at all —
 * unless the account sets `allow_private_media`. Sandbox accounts do (their media is on loopback).
 */

const PRIVATE = [
  'http://127.0.0.1/a.jpg',
  'http://127.1/a.jpg',
  'http://2130706433/a.jpg',
  'http://0x7f000001/a.jpg',
  'http://0177.0.0.1/a.jpg',
  'http://localhost/a.jpg',
  'http://LOCALHOST./a.jpg',
  'http://media.localhost/a.jpg',
  'http://10.1.2.3/a.jpg',
  'http://172.16.0.9/a.jpg',
  'http://172.31.255.1/a.jpg',
  'http://192.168.1.10:8080/a.jpg',
  'http://169.254.169.254/latest/meta-data/a.jpg',
  'http://100.64.0.1/a.jpg',
  'http://0.0.0.0/a.jpg',
  'http://[::1]/a.jpg',
  'http://[0:0:0:0:0:0:0:1]/a.jpg',
  'http://[::]/a.jpg',
  'http://[::ffff:127.0.0.1]/a.jpg',
  'http://[fd12:3456::1]/a.jpg',
  'http://[fe80::1]/a.jpg',
  'https://user:pass@127.0.0.1/a.jpg',
  'http://metadata.google.internal/a.jpg',
]
const PUBLIC = ['https://example.com/a.jpg', 'https://8.8.8.8/a.jpg', 'https://172.32.0.1/a.jpg', 'https://[2001:db8::1]/a.jpg']

let t: TestGateway

beforeAll(async () => {
  t = await startTestGateway()
  const twilio = await t.gw.accounts.get(t.gw.tenantId, 'sandbox-twilio')
  // A real (non-sandbox) account; its sends go to the Twilio simulator, never out of the machine.
  const res = await t.api('POST', '/v1/accounts', { name: 'strict', provider: 'twilio', phone_number: '+14155552301', config: { account_sid: twilio.rawConfig.account_sid, auth_token: twilio.rawConfig.auth_token, base_url: twilio.rawConfig.base_url } })
  expect(res.status, res.text).toBe(201)
  expect(res.json.allow_private_media).toBe(false)
})
afterAll(async () => {
  const s = Date.now()
  const lap = (w: string) => console.log(`[close] ${w} at ${Date.now() - s} ms`)
  await t.sandbox.stop(); lap("sandbox")
  await t.gw.worker.stop(); lap("worker")
  await t.gw.app.close(); lap("app")
  await t.close(); lap("all")
}, 120_000)

const image = (account: string, url: string) => ({ account, to: '+14155550123', type: 'image', media: { url, mime_type: 'image/jpeg' } })
const template = (account: string, url: string) => ({ account, to: '+14155550123', type: 'template', template: { name: 'hello_world', language: 'en_US', components: [{ type: 'header', parameters: [{ type: 'image', url }] }] } })

describe('media URLs on private addresses (issue 7)', () => {
  it('an account without allow_private_media refuses every private spelling, in media and in template parameters, writing nothing', async () => {
    await settle(t)
    for (const url of PRIVATE) {
      for (const body of [image('strict', url), template('strict', url)]) {
        const before = await fingerprint(t)
        const res = await t.api('POST', '/v1/messages', body)
        expect(res.status, `${body.type} ${url}: ${res.text.slice(0, 200)}`).toBe(422)
        expect(res.json.code, url).toBe('media_url_refused')
        expect(res.headers['content-type']).toMatch(/^application\/problem\+json/)
        expect(await fingerprint(t), `${url} wrote`).toEqual(before)
      }
    }
  })

  it('public addresses are accepted on the same account', async () => {
    for (const url of PUBLIC) {
      const res = await t.api('POST', '/v1/messages', image('strict', url))
      expect(res.status, `${url}: ${res.text.slice(0, 200)}`).toBe(202)
    }
  })

  it('allow_private_media on the account lets them through, and turning it off refuses them again', async () => {
    expect((await t.api('PATCH', '/v1/accounts/strict', { allow_private_media: true })).json.allow_private_media).toBe(true)
    for (const url of ['http://127.0.0.1/a.jpg', 'http://10.1.2.3/a.jpg', 'http://[::1]/a.jpg']) {
      expect((await t.api('POST', '/v1/messages', image('strict', url))).status, url).toBe(202)
    }
    await t.api('PATCH', '/v1/accounts/strict', { allow_private_media: false })
    expect((await t.api('POST', '/v1/messages', image('strict', 'http://127.0.0.1/a.jpg'))).json.code).toBe('media_url_refused')
  })

  it('sandbox accounts allow private media (their media is on loopback), as a setting that can be turned off', async () => {
    const view = await t.api('GET', '/v1/accounts/sandbox-meta')
    expect(view.json).toMatchObject({ sandbox: true, allow_private_media: true })
    expect((await t.api('POST', '/v1/messages', image('sandbox-meta', 'http://127.0.0.1:9/a.jpg'))).status).toBe(202)
    await t.api('PATCH', '/v1/accounts/sandbox-meta', { allow_private_media: false })
    expect((await t.api('POST', '/v1/messages', image('sandbox-meta', 'http://127.0.0.1:9/a.jpg'))).json.code).toBe('media_url_refused')
    await t.api('PATCH', '/v1/accounts/sandbox-meta', { allow_private_media: true })
  })
})
