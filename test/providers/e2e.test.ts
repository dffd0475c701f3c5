import { createHmac, randomBytes } from 'node:crypto'
import { request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CONTENT_TYPES, type ContentType } from '../../src/domain/content.js'
import type { Account } from '../../src/engine/accounts.js'
import type { ProviderId } from '../../src/providers/types.js'
import type { SentRecord, Simulator } from '../../src/simulators/types.js'
import { startTestGateway, type TestGateway } from '../harness/gateway.js'

/**
 * The end-to-end proof: one suite run against each sandbox account (Meta, Twilio, Sinch,
 * Gupshup), each through the real gateway and that provider's simulator. Expected wire shapes,
 * codes and statuses come from /work/shared/providers/<provider>.md, not from the adapters.
 */

/** API and wire bodies as tests read them (the harness hands JSON back untyped). */
type Json = Record<string, any>
type Body = Record<string, unknown>

interface ForgedWebhook {
  url: string
  headers: Record<string, string>
  body: string
}

interface ProviderCase {
  account: string
  provider: ProviderId
  /** A template as this provider names it (meta.md / twilio.md §1 ContentSid / sinch.md §1 / gupshup.md §1.2). */
  template: Body
  /** What the simulator records as the wire type of each content type this provider sends. */
  wireType: Partial<Record<ContentType, string>>
  /** Content types whose last status is `sent` (the provider reports nothing after it). */
  endsSent: ContentType[]
  /** The provider's own code for "not on WhatsApp" (meta.md 131026, twilio.md 63003, sinch.md §4, gupshup.md §3 1002). */
  notOnWhatsAppCode: string
  /** A correctly shaped inbound webhook for this account, signed with `secret` (a wrong one to forge it). */
  inboundWebhook(account: Account, webhookUrl: string, good: boolean, text: string, from: string): ForgedWebhook
}

const CASES: ProviderCase[] = [
  {
    account: 'sandbox-meta',
    provider: 'meta',
    template: { name: 'order_update', language: 'en_US', components: [{ type: 'body', parameters: [{ type: 'text', text: 'Ana' }, { type: 'text', text: '#1234' }] }] },
    wireType: { text: 'text', image: 'image', audio: 'audio', video: 'video', document: 'document', sticker: 'sticker', template: 'template', interactive: 'interactive', location: 'location', reaction: 'reaction' },
    // meta.md: a reaction gets a `sent` status and nothing after it.
    endsSent: ['reaction'],
    notOnWhatsAppCode: '131026',
    inboundWebhook(account, webhookUrl, good, text, from) {
      const c = account.rawConfig
      const body = JSON.stringify({
        object: 'whatsapp_business_account',
        entry: [
          {
            id: '100000000000999',
            changes: [
              {
                field: 'messages',
                value: {
                  messaging_product: 'whatsapp',
                  metadata: { display_phone_number: account.row.phone_number.slice(1), phone_number_id: String(c.phone_number_id) },
                  contacts: [{ profile: { name: 'Mallory' }, wa_id: from.slice(1) }],
                  messages: [{ from: from.slice(1), id: `wamid.${randomBytes(12).toString('hex')}`, timestamp: String(Math.floor(Date.now() / 1000)), type: 'text', text: { body: text } }],
                },
              },
            ],
          },
        ],
      })
      const secret = good ? String(c.app_secret) : `${String(c.app_secret)}x`
      return { url: webhookUrl, body, headers: { 'content-type': 'application/json', 'x-hub-signature-256': `sha256=${createHmac('sha256', secret).update(body).digest('hex')}` } }
    },
  },
  {
    account: 'sandbox-twilio',
    provider: 'twilio',
    template: { name: `HX${'0123456789abcdef'.repeat(2)}`, language: 'en', components: [{ type: 'body', parameters: [{ type: 'text', text: 'Ana' }] }] },
    // twilio.md §1: Body, MediaUrl or ContentSid; a location is a Body with a PersistentAction `geo:`.
    wireType: { text: 'text', image: 'media', audio: 'media', video: 'media', document: 'media', sticker: 'media', template: 'template', location: 'text' },
    endsSent: [],
    notOnWhatsAppCode: '63003',
    inboundWebhook(account, webhookUrl, good, text, from) {
      const c = account.rawConfig
      const sid = `SM${randomBytes(16).toString('hex')}`
      const params: Record<string, string> = {
        SmsMessageSid: sid,
        NumMedia: '0',
        SmsSid: sid,
        SmsStatus: 'received',
        Body: text,
        To: `whatsapp:${account.row.phone_number}`,
        NumSegments: '1',
        MessageSid: sid,
        AccountSid: String(c.account_sid),
        From: `whatsapp:${from}`,
        WaId: from.slice(1),
        ApiVersion: '2010-04-01',
      }
      // twilio.md §4: URL followed by each param sorted by key, key+value, HMAC-SHA1 with the auth token.
      let data = webhookUrl
      for (const key of Object.keys(params).sort()) data += key + params[key]
      const token = good ? String(c.auth_token) : `${String(c.auth_token)}x`
      const signature = createHmac('sha1', token).update(data, 'utf8').digest('base64')
      return { url: webhookUrl, body: new URLSearchParams(params).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature } }
    },
  },
  {
    account: 'sandbox-sinch',
    provider: 'sinch',
    template: { name: 'order_update', language: 'en_US', components: [{ type: 'body', parameters: [{ type: 'text', text: 'Ana' }] }] },
    // sinch.md §1: a captioned image travels as a card_message (media_message has no caption).
    wireType: { text: 'text', image: 'card', audio: 'media', video: 'media', document: 'media', template: 'template', interactive: 'choice', location: 'location' },
    endsSent: [],
    notOnWhatsAppCode: 'RECIPIENT_NOT_REACHABLE',
    inboundWebhook(account, webhookUrl, good, text, from) {
      const c = account.rawConfig
      const now = new Date().toISOString()
      const body = JSON.stringify({
        app_id: String(c.app_id),
        project_id: String(c.project_id),
        accepted_time: now,
        event_time: now,
        message: {
          id: `01FORGED${randomBytes(9).toString('hex').toUpperCase()}`,
          direction: 'TO_APP',
          contact_message: { text_message: { text } },
          channel_identity: { channel: 'WHATSAPP', identity: from.slice(1), app_id: String(c.app_id) },
          conversation_id: '01EB199XQ2CBY50K6WZD9S1A22',
          contact_id: '01EB197NDA4W7V15NPRCVV0S79',
          metadata: '',
          accept_time: now,
        },
      })
      // sinch.md §3: base64(HMAC-SHA256(secret, body.nonce.timestamp)).
      const nonce = randomBytes(12).toString('hex')
      const timestamp = String(Math.floor(Date.now() / 1000))
      const secret = good ? String(c.webhook_secret) : `${String(c.webhook_secret)}x`
      const signature = createHmac('sha256', secret).update(`${body}.${nonce}.${timestamp}`).digest('base64')
      return {
        url: webhookUrl,
        body,
        headers: {
          'content-type': 'application/json',
          'x-sinch-webhook-signature': signature,
          'x-sinch-webhook-signature-nonce': nonce,
          'x-sinch-webhook-signature-timestamp': timestamp,
          'x-sinch-webhook-signature-algorithm': 'HmacSHA256',
        },
      }
    },
  },
  {
    account: 'sandbox-gupshup',
    provider: 'gupshup',
    template: { name: '2cb1c0f4-39a4-4f1c-9a8f-8e0f0c1d2e3f', language: 'en', components: [{ type: 'body', parameters: [{ type: 'text', text: 'Ana' }] }] },
    // gupshup.md §1.1: documents are `file`, buttons a `quick_reply`.
    wireType: { text: 'text', image: 'image', audio: 'audio', video: 'video', document: 'file', sticker: 'sticker', template: 'template', interactive: 'quick_reply', location: 'location' },
    endsSent: [],
    notOnWhatsAppCode: '1002',
    inboundWebhook(account, webhookUrl, good, text, from) {
      const digits = from.slice(1)
      const body = JSON.stringify({
        app: String(account.rawConfig.app_name),
        timestamp: Date.now(),
        version: 2,
        type: 'message',
        payload: { id: `ABEGkY${randomBytes(12).toString('hex')}`, source: digits, type: 'text', payload: { text }, sender: { phone: digits, name: 'Mallory', country_code: '1', dial_code: digits.slice(1) } },
      })
      // gupshup.md §4: nothing is signed; the secret is the last segment of the callback URL.
      const url = good ? webhookUrl : webhookUrl.replace(/\/[^/]+$/, `/${randomBytes(18).toString('base64url')}`)
      return { url, body, headers: { 'content-type': 'application/json' } }
    },
  },
]

/** Content of each type, the same for every provider except the template. */
function contentOf(type: ContentType, c: ProviderCase, reactTo?: string): Body {
  switch (type) {
    case 'text':
      return { type, text: 'Hello from the e2e suite' }
    case 'image':
      return { type, media: { url: 'https://media.example.com/photos/cat.jpg', caption: 'A cat' } }
    case 'audio':
      return { type, media: { url: 'https://media.example.com/voice/note.mp3' } }
    case 'video':
      return { type, media: { url: 'https://media.example.com/clips/demo.mp4' } }
    case 'document':
      return { type, media: { url: 'https://media.example.com/docs/invoice.pdf', filename: 'invoice.pdf' } }
    case 'sticker':
      return { type, media: { url: 'https://media.example.com/stickers/smile.webp' } }
    case 'template':
      return { type, template: c.template }
    case 'interactive':
      return { type, interactive: { type: 'button', body: 'Ship it?', buttons: [{ id: 'yes', title: 'Yes' }, { id: 'no', title: 'No' }] } }
    case 'location':
      return { type, location: { latitude: 52.3676, longitude: 4.9041, name: 'Dam Square', address: 'Dam, Amsterdam' } }
    case 'reaction':
      return { type, reaction: { message_id: reactTo ?? 'msg_unknown', emoji: '👍' } }
  }
}

let t: TestGateway
const AREA_CODES = ['415', '212', '617', '312']
let numberSeq = 0
/** A fresh recipient per test, so pacing and per-recipient order never couple two tests. */
const nextRecipient = () => `+1415555${String(2000 + ++numberSeq).padStart(4, '0')}`

beforeAll(async () => {
  t = await startTestGateway({ env: { WAGATE_MAX_ATTEMPTS: '6' } })
})
afterAll(async () => t?.close())

describe.each(CASES)('$account end to end', (c) => {
  const account = () => {
    const found = t.sandbox.accounts.find((a) => a.row.name === c.account)
    if (!found) throw new Error(`no sandbox account ${c.account}`)
    return found
  }
  const sim = (): Simulator => {
    const found = t.sandbox.simulators.get(account().row.id)
    if (!found) throw new Error(`no simulator for ${c.account}`)
    return found
  }
  const send = (to: string, content: Body) => t.api('POST', '/v1/messages', { account: c.account, to, ...content })
  const getMessage = async (id: string) => (await t.api('GET', `/v1/messages/${id}`)).json as Json
  const waitStatus = (id: string, status: string, what: string) =>
    t.waitFor(async () => {
      const m = await getMessage(id)
      return m.status === status ? m : undefined
    }, 15_000, what)
  const recordOf = (providerMessageId: string): SentRecord | undefined => sim().sent().find((r) => r.providerMessageId === providerMessageId)
  const sentTo = (to: string) => sim().sent().filter((r) => r.to.replace(/\D/g, '') === to.replace(/\D/g, ''))

  it('the registry lists what this provider sends', () => {
    const types = t.gw.registry.get(c.provider)?.capabilities('whatsapp').types ?? []
    expect(types.length).toBeGreaterThan(0)
    // The wire types above are written for exactly the advertised types.
    expect([...types].sort()).toEqual(Object.keys(c.wireType).sort())
  })

  it.each(CONTENT_TYPES)('%s: sent and followed to its last status, or refused before any provider call', async (type) => {
    const supported = t.gw.registry.get(c.provider)?.capabilities('whatsapp').types ?? []
    const to = nextRecipient()
    let reactTo: string | undefined
    if (type === 'reaction') {
      // A reaction needs a real message of this account to point at, sent before we count calls.
      const target = await send(to, contentOf('text', c))
      expect(target.status).toBe(202)
      reactTo = target.json.id
      await t.waitFor(async () => (await getMessage(target.json.id)).provider_message_id, 15_000, 'reaction target sent')
    }
    const before = sim().stats().requests
    const sentBefore = sentTo(to).length
    const res = await send(to, contentOf(type, c, reactTo))

    if (!supported.includes(type)) {
      expect(res.status).toBe(422)
      expect(res.json.code).toBe('unsupported_message_type')
      expect(sim().stats().requests).toBe(before)
      expect(sentTo(to)).toHaveLength(sentBefore)
      return
    }

    expect(res.status).toBe(202)
    expect(res.json).toMatchObject({ id: expect.stringMatching(/^msg_/), status: 'queued' })
    const last = c.endsSent.includes(type) ? 'sent' : 'read'
    const done = await waitStatus(res.json.id, last, `${c.account} ${type} ${last}`)
    expect(done.provider_message_id).toBeTruthy()
    expect(done.attempts).toBe(1)

    const record = recordOf(done.provider_message_id)
    expect(record, 'the simulator received the send').toBeDefined()
    expect(record?.type).toBe(c.wireType[type])
    expect(record?.to.replace(/\D/g, '')).toBe(to.slice(1))
    if (c.provider === 'twilio' && type === 'location') {
      // twilio.md §1: PersistentAction carries the location, `geo:lat,lon|label`.
      expect((record?.body as Json).PersistentAction).toBe('geo:52.3676,4.9041|Dam Square')
    }

    const statuses = (done.history as Array<{ status: string }>).map((h) => h.status)
    expect(statuses.slice(0, 3)).toEqual(['accepted', 'queued', 'sending'])
    const expected = last === 'read' ? ['sent', 'delivered', 'read'] : ['sent']
    for (const s of expected) expect(statuses).toContain(s)
    if (last === 'sent') {
      // Nothing past `sent` arrives for it: give the simulator time to say more, then check again.
      await sim().idle(5_000)
      expect((await getMessage(res.json.id)).status).toBe('sent')
    }
  })

  it('a statuses stream ends read, with one history row per step and the events to match', async () => {
    const to = nextRecipient()
    const res = await send(to, { type: 'text', text: 'status walk' })
    expect(res.status).toBe(202)
    const read = await waitStatus(res.json.id, 'read', `${c.account} read`)
    await sim().idle(5_000)
    const history = (await getMessage(res.json.id)).history as Array<{ status: string; provider_status: string; at: string }>
    const statuses = history.map((h) => h.status)
    for (const s of ['accepted', 'queued', 'sending', 'sent', 'delivered', 'read']) expect(statuses).toContain(s)
    // Each provider word is kept once (a provider may say `sending` twice in its own words: Gupshup submitted, enqueued).
    const pairs = history.map((h) => `${h.status}/${h.provider_status}`)
    expect(new Set(pairs).size).toBe(pairs.length)
    // The history only moves forward.
    const rank = ['accepted', 'queued', 'sending', 'sent', 'delivered', 'read']
    const ranks = statuses.map((s) => rank.indexOf(s))
    expect(ranks).toEqual([...ranks].sort((a, b) => a - b))
    for (const h of history) expect(Number.isNaN(Date.parse(h.at))).toBe(false)
    const events = await t.api('GET', `/v1/events?type=message.status&topic=message.${c.account}.>&limit=1000`)
    const mine = (events.json.data as Json[]).filter((e) => e.data.message.id === read.id).map((e) => e.topic)
    for (const s of ['accepted', 'read']) expect(mine).toContain(`message.${c.account}.${s}`)
  })

  it('a contact reply quoting our message comes back as message.inbound with reply_to = our msg_ id', async () => {
    const to = nextRecipient()
    const sent = await send(to, { type: 'text', text: 'Please reply to me' })
    expect(sent.status).toBe(202)
    await waitStatus(sent.json.id, 'read', `${c.account} read before reply`)
    const text = `reply ${randomBytes(4).toString('hex')}`
    const reply = await t.api('POST', `/sandbox/${c.account}/inbound`, { from: to, text, reply_to: sent.json.id })
    expect(reply.status).toBe(202)
    const event = await t.waitFor(async () => {
      const r = await t.api('GET', `/v1/events?type=message.inbound&topic=incoming.${c.account}.>&limit=1000`)
      return (r.json.data as Json[]).find((e) => e.data.message.text === text)
    }, 15_000, `${c.account} reply event`)
    expect(event.data.message.reply_to).toBe(sent.json.id)
    expect(event.data.message.direction).toBe('in')
    expect(event.account).toBe(c.account)
  })

  it('a number not on WhatsApp fails with recipient_not_on_whatsapp, the provider code kept, and a failed event', async () => {
    // Sandbox rule (DESIGN §11): a number ending in 0000 is not on WhatsApp. One per provider: once
    // a URN is known unreachable the gateway stops sending to it on every account.
    const to = `+1${AREA_CODES[CASES.indexOf(c)]}5550000`
    const res = await send(to, { type: 'text', text: 'Are you there?' })
    expect(res.status).toBe(202)
    const failed = await waitStatus(res.json.id, 'failed', `${c.account} failed`)
    expect(failed.error).toMatchObject({ code: 'recipient_not_on_whatsapp', retryable: false, provider_code: c.notOnWhatsAppCode })
    const event = await t.waitFor(async () => {
      const r = await t.api('GET', `/v1/events?type=message.status&topic=message.${c.account}.failed&limit=1000`)
      return (r.json.data as Json[]).find((e) => e.data.message.id === res.json.id)
    }, 15_000, `${c.account} failed event`)
    expect(event.topic).toBe(`message.${c.account}.failed`)
    expect(event.data.message.error).toMatchObject({ code: 'recipient_not_on_whatsapp', provider_code: c.notOnWhatsAppCode })
  })

  it('throttling is retried: two rate-limit answers, then the message still ends read', async () => {
    const to = nextRecipient()
    const faultedBefore = sim().stats().faulted
    sim().setFaults([{ kind: 'rate_limit', count: 2, recipients: [to] }])
    try {
      const res = await send(to, { type: 'text', text: 'slow down' })
      expect(res.status).toBe(202)
      const read = await waitStatus(res.json.id, 'read', `${c.account} read after throttling`)
      expect(read.attempts).toBeGreaterThanOrEqual(3)
      expect(read.error).toBeNull()
      // Both throttling answers were served, and only the third call was taken.
      expect(sim().stats().faulted - faultedBefore).toBe(2)
      expect(sentTo(to)).toHaveLength(1)
      expect(recordOf(read.provider_message_id)).toBeDefined()
      // Not asserted: a history row per throttled attempt. The outbox's retry path writes none and
      // success clears `error` (src/engine/outbox.ts, reported to the engine's owner).
    } finally {
      sim().clearFaults()
    }
  })

  it('no send reached the provider twice (the simulator counts repeats of wagate ids it can read)', () => {
    expect(sim().stats().duplicates).toBe(0)
    expect(sim().stats().rejected, 'the simulator refused no send for its shape or auth').toBe(0)
  })

  it('a forged webhook is refused with 401 invalid_signature and nothing is written; the same body signed is taken', async () => {
    const from = nextRecipient()
    const view = await t.api('GET', `/v1/accounts/${c.account}`)
    const webhookUrl = String(view.json.webhook_url)
    expect(webhookUrl).toContain(`/webhooks/${c.provider}/${c.account}`)
    const forgedText = `forged ${randomBytes(4).toString('hex')}`
    const forged = c.inboundWebhook(account(), webhookUrl, false, forgedText, from)
    const res = await request(forged.url, { method: 'POST', headers: forged.headers, body: forged.body })
    const body = JSON.parse(await res.body.text()) as Json
    expect(res.statusCode).toBe(401)
    expect(body.code).toBe('invalid_signature')

    // Control: the same shape with the right secret is accepted, so the refusal was the signature's.
    const goodText = `genuine ${randomBytes(4).toString('hex')}`
    const genuine = c.inboundWebhook(account(), webhookUrl, true, goodText, from)
    const ok = await request(genuine.url, { method: 'POST', headers: genuine.headers, body: genuine.body })
    await ok.body.text()
    expect(ok.statusCode).toBe(200)

    const events = await t.api('GET', `/v1/events?type=message.inbound&topic=incoming.${c.account}.>&limit=1000`)
    const texts = (events.json.data as Json[]).map((e) => e.data.message.text)
    expect(texts).toContain(goodText)
    expect(texts).not.toContain(forgedText)
    const inbound = await t.api('GET', `/v1/messages?account=${c.account}&direction=in&limit=200`)
    expect((inbound.json.data as Json[]).some((m) => m.text === forgedText)).toBe(false)
  })
})
