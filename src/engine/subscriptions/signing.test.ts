import { createHmac } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { Webhook } from 'standardwebhooks'
import { newWebhookSecret, signedHeaders } from './signing.js'

describe('Standard Webhooks signing', () => {
  it('makes whsec_ secrets of at least 24 random bytes, different each time', () => {
    const a = newWebhookSecret()
    const b = newWebhookSecret()
    expect(a).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/)
    expect(Buffer.from(a.slice('whsec_'.length), 'base64').length).toBeGreaterThanOrEqual(24)
    expect(a).not.toBe(b)
  })

  it('signs v1,<base64 HMAC-SHA256 of "id.timestamp.body"> as the spec says, and the package verifies it', () => {
    const secret = newWebhookSecret()
    const body = '{"id":"evt_1","type":"message.status"}'
    const now = Date.now()
    const headers = signedHeaders(secret, 'evt_1', now, body)
    const key = Buffer.from(secret.slice('whsec_'.length), 'base64')
    const expected = createHmac('sha256', key).update(`evt_1.${Math.floor(now / 1000)}.${body}`).digest('base64')
    expect(headers['webhook-signature']).toBe(`v1,${expected}`)
    expect(headers['webhook-id']).toBe('evt_1')
    expect(new Webhook(secret).verify(body, { ...headers })).toEqual(JSON.parse(body))
  })

  it('a tampered body, id or another secret does not verify', () => {
    const secret = newWebhookSecret()
    const body = '{"n":1}'
    const headers = signedHeaders(secret, 'evt_1', Date.now(), body)
    expect(() => new Webhook(secret).verify('{"n":2}', { ...headers })).toThrow()
    expect(() => new Webhook(secret).verify(body, { ...headers, 'webhook-id': 'evt_2' })).toThrow()
    expect(() => new Webhook(newWebhookSecret()).verify(body, { ...headers })).toThrow()
  })
})
