import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { readFixtureJson } from '../../../test/harness/fixtures.js'
import { DEMO_APP, eventsFor, postForm, sendSession, sendTemplate, sessionFields, shapeDiff, startRig, type Rig } from './testing.js'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/
const payloadOf = (c: Record<string, unknown>) => c.payload as Record<string, unknown>

let rig: Rig
beforeEach(async () => {
  rig = await startRig()
})
afterEach(async () => {
  await rig.close()
})

describe('auth refusal', () => {
  it('answers a missing or wrong apikey with the documented Authentication Failed body and sends nothing', async () => {
    const expected = readFixtureJson('gupshup', 'send-response-error-auth-failed.json')
    const fields = sessionFields('919876543210', { type: 'text', text: 'hi' })
    const missing = await postForm(`${rig.sim.url}/wa/api/v1/msg`, fields, undefined)
    const wrong = await postForm(`${rig.sim.url}/wa/api/v1/template/msg`, fields, 'not-the-key')
    const almost = await postForm(`${rig.sim.url}/wa/api/v1/msg`, fields, `${DEMO_APP.apiKey}x`)
    for (const answer of [missing, wrong, almost]) {
      expect(answer.status).toBe(401)
      expect(answer.json).toEqual(expected)
    }
    await rig.sim.idle(1000)
    expect(rig.sim.sent()).toEqual([])
    expect(rig.callbacks()).toEqual([])
    expect(rig.sim.stats()).toMatchObject({ requests: 3, rejected: 3, sent: 0 })
  })
})

describe('shape refusal', () => {
  const text = { type: 'text', text: 'hi' }
  it.each([
    ['unknown src.name', sessionFields('919876543210', text, { 'src.name': 'OtherApp' }), 'Invalid App Details'],
    ['source not the app number', sessionFields('919876543210', text, { source: '919999999999' }), 'Invalid App Details'],
    ['destination with +', sessionFields('+919876543210', text), 'Invalid Destination'],
    ['destination missing', sessionFields('', text), 'Invalid Destination'],
    ['channel not whatsapp', sessionFields('919876543210', text, { channel: 'sms' }), 'Invalid Channel'],
    ['message not JSON', sessionFields('919876543210', text, { message: 'hello there' }), 'Invalid Message'],
    ['unknown message type', sessionFields('919876543210', { type: 'carrier_pigeon', text: 'hi' }), 'Invalid Message'],
    ['empty text', sessionFields('919876543210', { type: 'text', text: '' }), 'Invalid Message'],
    ['image without url or id', sessionFields('919876543210', { type: 'image', caption: 'x' }), 'Invalid Message'],
    ['list without items', sessionFields('919876543210', { type: 'list', body: 'b', globalButtons: [{ type: 'text', title: 'go' }] }), 'Invalid Message'],
  ])('session send with %s → HTTP 400 %s', async (_name, fields, message) => {
    const answer = await postForm(`${rig.sim.url}/wa/api/v1/msg`, fields, DEMO_APP.apiKey)
    expect(answer.status).toBe(400)
    expect(answer.json).toEqual({ message, status: 'error' })
    expect(rig.sim.sent()).toEqual([])
  })

  it('refuses a template send without a template id, or with non-string params', async () => {
    const noId = await sendTemplate(rig, '919876543210', { params: ['a'] })
    const badParams = await sendTemplate(rig, '919876543210', { id: 'tpl-1', params: [1, 2] })
    expect(noId).toEqual({ status: 400, json: { message: 'Invalid Template', status: 'error' } })
    expect(badParams.status).toBe(400)
    expect(rig.sim.stats()).toMatchObject({ rejected: 2, sent: 0 })
  })

  it('does not read JSON bodies: Gupshup takes form fields only', async () => {
    const { request } = await import('undici')
    const res = await request(`${rig.sim.url}/wa/api/v1/msg`, {
      method: 'POST',
      headers: { apikey: DEMO_APP.apiKey, 'content-type': 'application/json' },
      body: JSON.stringify(sessionFields('919876543210', text)),
    })
    expect(res.statusCode).toBe(400)
    expect(await res.body.json()).toEqual({ message: 'Invalid App Details', status: 'error' })
  })
})

describe('accepted session send', () => {
  it('answers submitted with a uuid and then posts enqueued → sent → delivered → read, ids correlated', async () => {
    const answer = await sendSession(rig, '919876543210', { type: 'text', text: 'Hello', previewUrl: false })
    expect(answer.status).toBeGreaterThanOrEqual(200)
    expect(answer.status).toBeLessThan(300)
    expect(shapeDiff(answer.json, readFixtureJson('gupshup', 'send-response-submitted.json'))).toEqual([])
    expect(answer.json.status).toBe('submitted')
    const gsId = String(answer.json.messageId)
    expect(gsId).toMatch(UUID)
    await rig.sim.idle(2000)

    const events = eventsFor(rig, gsId)
    expect(events.map((e) => payloadOf(e).type)).toEqual(['enqueued', 'sent', 'delivered', 'read'])
    const [enqueued, sent, delivered, read] = events as [Record<string, unknown>, Record<string, unknown>, Record<string, unknown>, Record<string, unknown>]
    for (const e of events) {
      expect(e).toMatchObject({ app: DEMO_APP.appName, version: 2, type: 'message-event' })
      expect(e.timestamp as number).toBeGreaterThan(1e12) // envelope time in ms
    }
    expect(shapeDiff(enqueued, readFixtureJson('gupshup', 'event-enqueued.json'), ['phone'])).toEqual([])
    expect(shapeDiff(delivered, readFixtureJson('gupshup', 'event-delivered.json'))).toEqual([])
    expect(shapeDiff(read, readFixtureJson('gupshup', 'event-read.json'), ['phone'])).toEqual([])

    // enqueued: Gupshup id in `id`, WhatsApp id inside; later events: WhatsApp id in `id`, Gupshup id in `gsId`.
    const waMessageId = (payloadOf(enqueued).payload as Record<string, unknown>).whatsappMessageId
    expect(payloadOf(enqueued)).toMatchObject({ id: gsId, destination: '919876543210', payload: { type: 'session' } })
    expect(payloadOf(enqueued)).not.toHaveProperty('gsId')
    for (const later of [sent, delivered, read]) {
      expect(payloadOf(later)).toMatchObject({ id: waMessageId, gsId, destination: '919876543210' })
      const ts = (payloadOf(later).payload as { ts: number }).ts
      expect(ts).toBeLessThan(1e11) // Meta time in seconds
      expect(ts).toBeGreaterThan(1.7e9)
    }
    expect(payloadOf(sent)).toMatchObject({ conversation: { id: expect.any(String), expiresAt: expect.any(Number) }, pricing: { policy: 'PMP', category: 'service' } })

    expect(rig.sim.sent()).toEqual([
      expect.objectContaining({ providerMessageId: gsId, account: DEMO_APP.appName, to: '919876543210', type: 'text' }),
    ])
    // Gupshup's session API has no client reference field, so duplicates cannot be counted.
    expect(rig.sim.sent()[0]?.clientRef).toBeUndefined()
    expect(rig.sim.sent()[0]?.body).toMatchObject({ message: { type: 'text', text: 'Hello' }, 'src.name': DEMO_APP.appName })
    expect(rig.receiver.requests.every((r) => r.path === '/webhooks/gupshup/demo/tok3n' && r.headers['content-type'] === 'application/json')).toBe(true)
    expect(rig.sim.stats()).toMatchObject({ requests: 1, sent: 1, rejected: 0, duplicates: 0, webhooksDelivered: 4 })
  })

  it('accepts the documented media, location, list and quick-reply message JSON', async () => {
    const messages = [
      { type: 'image', originalUrl: 'https://example.com/a.jpg', previewUrl: 'https://example.com/a.jpg', caption: 'c' },
      { type: 'image', id: '77362728271623327', caption: 'by id' },
      { type: 'video', url: 'https://example.com/a.mp4' },
      { type: 'audio', url: 'https://example.com/a.ogg' },
      { type: 'file', url: 'https://example.com/a.pdf', filename: 'a.pdf' },
      { type: 'location', latitude: '28.6', longitude: '77.2', name: 'Office', address: 'Delhi' },
      {
        type: 'list',
        title: 'Menu',
        body: 'Pick one',
        msgid: 'list1',
        globalButtons: [{ type: 'text', title: 'options' }],
        items: [{ options: [{ type: 'text', title: 'row', description: 'd', postbackText: 'p' }] }],
      },
      { type: 'quick_reply', msgid: 'qr1', content: { type: 'text', text: 'Choose' }, options: [{ type: 'text', title: 'First' }] },
      { type: 'text', text: 'a reply', context: { msgId: 'gBEGkYaYVSEEAgnPFrOLcjkFjL8' } },
    ]
    for (const message of messages) {
      const answer = await sendSession(rig, '919876543210', message)
      expect(answer.status, JSON.stringify(message)).toBe(202)
    }
    expect(rig.sim.sent().map((r) => r.type)).toEqual(['image', 'image', 'video', 'audio', 'file', 'location', 'list', 'quick_reply', 'text'])
  })
})

describe('accepted template send', () => {
  it('answers submitted and marks the enqueued event as a template', async () => {
    const answer = await sendTemplate(rig, '919876543210', { id: '007b7c0e-fc8d-4698-a9a8-3938151dd5da', params: ['monday', '2020-12-20'] }, {
      postbackTexts: JSON.stringify([{ index: 0, text: 'yes-payload' }]),
    })
    expect(answer.status).toBe(202)
    const gsId = String(answer.json.messageId)
    await rig.sim.idle(2000)
    const [enqueued] = eventsFor(rig, gsId)
    expect(payloadOf(enqueued ?? {})).toMatchObject({ type: 'enqueued', id: gsId, payload: { type: 'template' } })
    expect(rig.sim.sent()[0]).toMatchObject({ type: 'template', body: { template: { id: '007b7c0e-fc8d-4698-a9a8-3938151dd5da', params: ['monday', '2020-12-20'] } } })
  })
})

describe('Brazil ninth digit', () => {
  it('posts a mismatch with the 12-digit wa_id and uses it as destination from sent on', async () => {
    const answer = await sendSession(rig, '5535987654321', { type: 'text', text: 'Olá' })
    const gsId = String(answer.json.messageId)
    await rig.sim.idle(2000)
    const mismatch = rig.callbacks().find((c) => payloadOf(c).type === 'mismatch')
    expect(mismatch).toBeDefined()
    expect(shapeDiff(mismatch, readFixtureJson('gupshup', 'event-mismatch-brazil.json'), ['phone'])).toEqual([])
    expect(payloadOf(mismatch ?? {})).toEqual({ type: 'mismatch', destination: '5535987654321', payload: { wa_id: '553587654321', phone: '5535987654321' } })
    const byType = Object.fromEntries(eventsFor(rig, gsId).map((e) => [payloadOf(e).type, payloadOf(e)]))
    expect(byType.enqueued?.destination).toBe('5535987654321')
    expect(byType.sent?.destination).toBe('553587654321')
    expect(byType.read?.destination).toBe('553587654321')
  })

  it('posts no mismatch for a number WhatsApp knows as given', async () => {
    await sendSession(rig, '553587654321', { type: 'text', text: 'Olá' })
    await sendSession(rig, '551133334444', { type: 'text', text: 'fixo' })
    await rig.sim.idle(2000)
    expect(rig.callbacks().some((c) => payloadOf(c).type === 'mismatch')).toBe(false)
  })
})

describe('number not on WhatsApp', () => {
  it('accepts the send, then posts failed with code 1002 keyed by the Gupshup id and nothing else', async () => {
    const answer = await sendSession(rig, '919800000000', { type: 'text', text: 'anyone?' })
    expect(answer.status).toBe(202)
    const gsId = String(answer.json.messageId)
    await rig.sim.idle(2000)
    const events = eventsFor(rig, gsId)
    expect(events).toHaveLength(1)
    expect(shapeDiff(events[0], readFixtureJson('gupshup', 'event-failed-sync-1008.json'), ['phone'])).toEqual([])
    expect(payloadOf(events[0] ?? {})).toMatchObject({ id: gsId, type: 'failed', destination: '919800000000', payload: { code: 1002 } })
    expect(payloadOf(events[0] ?? {})).not.toHaveProperty('gsId')
  })
})

describe('opt-out', () => {
  it('posts a user-event opted-out, then fails sends to that number with 1012', async () => {
    await rig.sim.optOut(DEMO_APP.appName, '+91 98765 43210')
    await rig.sim.idle(1000)
    const [userEvent] = rig.callbacks()
    expect(shapeDiff(userEvent, readFixtureJson('gupshup', 'user-event-opted-out.json'))).toEqual([])
    expect(userEvent).toMatchObject({ app: DEMO_APP.appName, type: 'user-event', payload: { phone: '919876543210', type: 'opted-out' } })

    const answer = await sendSession(rig, '919876543210', { type: 'text', text: 'still there?' })
    await rig.sim.idle(2000)
    const events = eventsFor(rig, String(answer.json.messageId))
    expect(events.map((e) => (payloadOf(e).payload as { code?: number }).code)).toEqual([1012])
  })
})
