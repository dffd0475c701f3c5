import { describe, expect, it } from 'vitest'
import { parseMetaWebhook } from '../../src/providers/meta/parse.js'
import { verifyMetaSignature } from '../../src/providers/meta/verify.js'
import type { RawRequest } from '../../src/providers/types.js'
import type { BenchRequest } from './load.js'
import { requestFeed, statusWebhook, unknownWamid, type WebhookTarget } from './meta-webhooks.js'

const target: WebhookTarget = {
  name: 'bench-in',
  account: { phoneNumberId: '7000000100', displayPhoneNumber: '16505551100', accessToken: 'tok', appSecret: 'the-app-secret', webhookUrl: 'http://127.0.0.1:1/x' },
}

const asRaw = (req: BenchRequest): RawRequest => ({
  method: req.method,
  url: `http://127.0.0.1${req.path}`,
  headers: req.headers,
  body: Buffer.from(req.body ?? ''),
})

describe('statusWebhook', () => {
  const req = statusWebhook(target, { wamid: 'wamid.ABC123', waId: '14155550123' }, 'delivered', Date.UTC(2026, 0, 1))

  it('is signed so that the gateway verifier accepts it, and only with the right secret', () => {
    expect(verifyMetaSignature('the-app-secret', asRaw(req))).toEqual({ ok: true })
    expect(verifyMetaSignature('another-secret', asRaw(req)).ok).toBe(false)
  })

  it('reads back through the Meta adapter as one status for that message and number', () => {
    const items = parseMetaWebhook(asRaw(req))
    expect(items).toHaveLength(1)
    const item = items[0]
    expect(item?.kind).toBe('status')
    if (item?.kind !== 'status') return
    expect(item.status.providerMessageId).toBe('wamid.ABC123')
    expect(item.status.status).toBe('delivered')
    expect(item.status.address).toBe('7000000100')
    expect(item.status.recipient.waId).toBe('14155550123')
    expect(item.status.timestamp).toBe(Date.UTC(2026, 0, 1))
  })

  it('goes to the per-account route', () => {
    expect(req.method).toBe('POST')
    expect(req.path).toBe('/webhooks/meta/bench-in')
    expect(req.headers['content-type']).toBe('application/json')
  })
})

describe('unknownWamid', () => {
  it('never repeats', () => {
    const ids = new Set(Array.from({ length: 1000 }, () => unknownWamid('14155550123')))
    expect(ids.size).toBe(1000)
  })
})

describe('requestFeed', () => {
  it('hands out the prebuilt requests in order, then builds more on demand', () => {
    const built: number[] = []
    const feed = requestFeed(2, (i) => {
      built.push(i)
      return { method: 'GET', path: `/${i}`, headers: {} }
    })
    expect(built).toEqual([0, 1])
    expect([feed.next().path, feed.next().path, feed.next().path]).toEqual(['/0', '/1', '/2'])
    expect(built).toEqual([0, 1, 2])
    expect(feed.used()).toBe(3)
  })
})
