import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { TestGateway } from '../harness/gateway.js'
import { allMessages, hubSignature, listEvents, META, metaSecrets, postMetaWebhook, raw, readdressed, readFixture, startMetaGateway } from './helpers.js'

/**
 * Acceptance: inbound Meta webhooks end to end through HTTP. Each captured fixture (with a
 * `messages[]`) is re-addressed to the sandbox account, signed with its app secret in this test,
 * and must yield exactly one `message.inbound` event carrying what test/fixtures/meta/index.md says
 * a correct gateway extracts. Forged or unsigned bodies are refused with nothing written.
 */

interface Expected {
  file: string
  providerMessageId: string
  type: string
  /** Unix seconds of the message. */
  ts: number
  sender: Record<string, string>
  /** The URN the message row is filed under. */
  from: string
  /** URNs the contact must have. */
  urns: string[]
  /** URNs the contact must not have. */
  notUrns?: string[]
  fields: Record<string, unknown>
  /** Message fields that must not be there (a reaction is not a new text; an image without caption). */
  absent?: string[]
}

const PYWA_SENDER = { phone: '+972987654321', waId: '972987654321', userId: 'US.13491208655302741918', parentUserId: 'US.ENT.11815799212886844830', name: 'Test Name' }
const PYWA_URNS = ['tel:+972987654321', 'whatsapp:972987654321', 'wauser:US.13491208655302741918']

// Values from test/fixtures/meta/index.md ("Inbound webhooks" table).
const CASES: Expected[] = [
  {
    file: 'webhook-text-with-bsuid-and-wa_id.json',
    providerMessageId: 'wamid.xyzxyz',
    type: 'text',
    ts: 1697043223,
    sender: PYWA_SENDER,
    from: 'tel:+972987654321',
    urns: PYWA_URNS,
    fields: { text: 'Body Text' },
  },
  {
    file: 'webhook-text-bsuid-only-no-phone.json',
    providerMessageId: 'external_id',
    type: 'text',
    ts: 1454119029,
    sender: { userId: 'US.1234', parentUserId: 'US.ENT.5678', name: 'Kerry Fisher', username: 'kfisher' },
    from: 'wauser:US.1234',
    urns: ['wauser:US.1234'],
    // a business-scoped id is never a phone number
    notUrns: ['tel:+1234', 'whatsapp:1234'],
    fields: { text: 'Hello World' },
  },
  {
    file: 'webhook-text-reply-with-context.json',
    providerMessageId: 'wamid.xyzxyz',
    type: 'text',
    ts: 1697044746,
    sender: PYWA_SENDER,
    from: 'tel:+972987654321',
    urns: PYWA_URNS,
    fields: { text: 'replied text', context: { id: 'wamid.xyzxyz==', from: '972123456789' } },
  },
  {
    file: 'webhook-image.json',
    providerMessageId: 'wamid.xyzxyz',
    type: 'image',
    ts: 1697043379,
    sender: PYWA_SENDER,
    from: 'tel:+972987654321',
    urns: PYWA_URNS,
    fields: { media: { id: '65463453', mime_type: 'image/jpeg', sha256: '4654+8g=' } },
    absent: ['text'],
  },
  {
    file: 'webhook-interactive-button-reply.json',
    providerMessageId: 'wamid.xyzxyz',
    type: 'interactive',
    ts: 1698266730,
    sender: PYWA_SENDER,
    from: 'tel:+972987654321',
    urns: PYWA_URNS,
    fields: { interactive: { type: 'button_reply', id: 'callback_data', title: 'title' }, context: { id: 'wamid.xyzxyz' } },
  },
  {
    file: 'webhook-interactive-list-reply.json',
    providerMessageId: 'wamid.zyzxyz',
    type: 'interactive',
    ts: 1698266905,
    sender: PYWA_SENDER,
    from: 'tel:+972987654321',
    urns: PYWA_URNS,
    fields: { interactive: { type: 'list_reply', id: 'callback_data', title: 'title' }, context: { id: 'wamid.xyzxyz' } },
  },
  {
    file: 'webhook-template-quick-reply-button.json',
    providerMessageId: 'wamid.xsidjw',
    type: 'button',
    ts: 1698269027,
    sender: PYWA_SENDER,
    from: 'tel:+972987654321',
    urns: PYWA_URNS,
    fields: { button: { text: 'title', payload: 'callback_data' }, context: { id: 'wamid.xyzxyz==' } },
  },
  {
    file: 'webhook-reaction.json',
    providerMessageId: 'wamid.xyzxyz',
    type: 'reaction',
    ts: 1697044456,
    sender: PYWA_SENDER,
    from: 'tel:+972987654321',
    urns: PYWA_URNS,
    fields: { reaction: { message_id: 'wamid.yzxyzx=', emoji: '😮' } },
    absent: ['text'],
  },
  {
    file: 'webhook-location.json',
    providerMessageId: 'wamid.xyzxyz',
    type: 'location',
    ts: 1697044557,
    sender: PYWA_SENDER,
    from: 'tel:+972987654321',
    urns: PYWA_URNS,
    fields: {
      location: { latitude: 37.4611978, longitude: -122.2164385, name: 'Facebook HQ', address: '1 Hacker Way, Menlo Park, CA 94025', url: 'https://maps.google.com/?cid=2000000000000000000' },
      context: { forwarded: true },
    },
  },
  {
    file: 'webhook-unsupported-131051.json',
    providerMessageId: 'wamid.xyzxyz',
    type: 'unsupported',
    ts: 1697044706,
    sender: PYWA_SENDER,
    from: 'tel:+972987654321',
    urns: PYWA_URNS,
    fields: { error: { provider_code: '131051' } },
  },
]

const ROUTES = [
  { name: 'app-wide', path: '/webhooks/meta', other: `/webhooks/meta/${META}` },
  { name: 'per-account', path: `/webhooks/meta/${META}`, other: '/webhooks/meta' },
]

describe.each(ROUTES)('Meta inbound webhook fixtures through $name $path', (route) => {
  it.each(CASES)('$file → one message.inbound event with what index.md names; replays change nothing', async (c) => {
    // A fresh gateway per case: several fixtures share the provider id wamid.xyzxyz and would dedupe.
    const t = await startMetaGateway()
    try {
      const { phoneNumberId, appSecret } = await metaSecrets(t)
      const body = JSON.stringify(readdressed(readFixture(c.file), phoneNumberId))
      expect(body).toContain(`"phone_number_id":"${phoneNumberId}"`)

      const first = await postMetaWebhook(t, route.path, body, hubSignature(body, appSecret))
      expect(first.status, first.text).toBe(200)

      const events = await listEvents(t, 'message.inbound')
      expect(events).toHaveLength(1)
      const event = events[0]
      expect(event.account).toBe(META)
      const m = event.data.message
      expect(m).toMatchObject({ direction: 'in', status: 'received', type: c.type, provider_message_id: c.providerMessageId, from: c.from })
      expect(m.sender).toEqual(c.sender)
      expect(m.received_at).toBe(new Date(c.ts * 1000).toISOString())
      expect(m).toMatchObject(c.fields)
      for (const key of c.absent ?? []) expect(m, `${key} should be absent`).not.toHaveProperty(key)
      expect(event.data.contact.urns).toEqual(expect.arrayContaining(c.urns))
      for (const u of c.notUrns ?? []) expect(event.data.contact.urns).not.toContain(u)

      // The provider retries the same webhook, on the same URL and on the other one: no second event.
      const again = await postMetaWebhook(t, route.path, body, hubSignature(body, appSecret))
      expect(again.status).toBe(200)
      const viaOther = await postMetaWebhook(t, route.other, body, hubSignature(body, appSecret))
      expect(viaOther.status).toBe(200)
      expect(await listEvents(t, 'message.inbound')).toHaveLength(1)
      const stored = await allMessages(t, '&direction=in')
      expect(stored.map((s) => s.provider_message_id)).toEqual([c.providerMessageId])
    } finally {
      await t.close()
    }
  })
})

describe('Meta webhook signatures', () => {
  let t: TestGateway
  let phoneNumberId: string
  let appSecret: string
  let verifyToken: string
  let body: string
  beforeAll(async () => {
    t = await startMetaGateway()
    ;({ phoneNumberId, appSecret, verifyToken } = await metaSecrets(t))
    body = JSON.stringify(readdressed(readFixture('webhook-text-with-bsuid-and-wa_id.json'), phoneNumberId))
  })
  afterAll(async () => t.close())

  const forgeries = () => [
    { what: 'no signature', signature: undefined },
    { what: 'signed with another secret', signature: hubSignature(body, `${appSecret}x`) },
    { what: 'signature of another body', signature: hubSignature(body.replace('Body Text', 'Forged Text'), appSecret) },
    { what: 'right hex without the sha256= prefix', signature: hubSignature(body, appSecret).slice('sha256='.length) },
    { what: 'truncated signature', signature: hubSignature(body, appSecret).slice(0, 40) },
    { what: 'empty signature', signature: '' },
  ]

  for (const path of ['/webhooks/meta', `/webhooks/meta/${META}`]) {
    it(`${path}: a forged or missing signature is a 401 invalid_signature and nothing is written`, async () => {
      const before = (await allMessages(t)).length
      for (const f of forgeries()) {
        const res = await postMetaWebhook(t, path, body, f.signature)
        expect(res.status, f.what).toBe(401)
        expect(res.contentType, f.what).toMatch(/^application\/problem\+json/)
        expect(res.json?.code, f.what).toBe('invalid_signature')
        expect(res.json?.detail, f.what).toMatch(/\w+ \w+/)
      }
      expect(await listEvents(t, 'message.inbound')).toHaveLength(0)
      expect(await allMessages(t)).toHaveLength(before)
    })
  }

  it('app-wide: an unsigned body is a 401 whatever it names (an unknown number, unreadable JSON), and nothing is written', async () => {
    const elsewhere = JSON.stringify(readdressed(readFixture('webhook-text-with-bsuid-and-wa_id.json'), '999000999000'))
    for (const [what, payload] of [
      ['addressed to a number no account has', elsewhere],
      ['not JSON', 'garbage'],
      ['JSON without metadata', '{"object":"whatsapp_business_account","entry":[]}'],
    ] as const) {
      for (const signature of [undefined, hubSignature(payload, `${appSecret}x`)]) {
        const res = await postMetaWebhook(t, '/webhooks/meta', payload, signature)
        expect(res.status, `${what} (${signature ? 'wrong secret' : 'unsigned'})`).toBe(401)
        expect(res.json?.code).toBe('invalid_signature')
      }
    }
    expect(await listEvents(t, 'message.inbound')).toHaveLength(0)
    expect(await allMessages(t)).toHaveLength(0)
  })

  it('app-wide: a signed body for a number no account has is acknowledged (200) and writes nothing; a signed unreadable one is a 400', async () => {
    const elsewhere = JSON.stringify(readdressed(readFixture('webhook-text-with-bsuid-and-wa_id.json'), '999000999000'))
    const ok = await postMetaWebhook(t, '/webhooks/meta', elsewhere, hubSignature(elsewhere, appSecret))
    expect(ok.status).toBe(200)
    const bad = await postMetaWebhook(t, '/webhooks/meta', 'garbage', hubSignature('garbage', appSecret))
    expect(bad.status).toBe(400)
    expect(bad.contentType).toMatch(/^application\/problem\+json/)
    expect(bad.json.code).toBe('invalid_request')
    expect(await listEvents(t, 'message.inbound')).toHaveLength(0)
    expect(await allMessages(t)).toHaveLength(0)
  })

  it('a correctly signed body is then accepted (the refusals above were about the signature)', async () => {
    const res = await postMetaWebhook(t, '/webhooks/meta', body, hubSignature(body, appSecret))
    expect(res.status).toBe(200)
    expect(await listEvents(t, 'message.inbound')).toHaveLength(1)
  })

  for (const path of ['/webhooks/meta', `/webhooks/meta/${META}`]) {
    it(`GET ${path}: the hub.challenge handshake echoes the challenge for the verify_token, 401 otherwise`, async () => {
      const q = (token: string, challenge = '1158201444', mode = 'subscribe') =>
        `${path}?hub.mode=${mode}&hub.verify_token=${encodeURIComponent(token)}&hub.challenge=${challenge}`
      const ok = await raw(t, 'GET', q(verifyToken))
      expect(ok.status).toBe(200)
      expect(ok.text).toBe('1158201444')
      const other = await raw(t, 'GET', q(verifyToken, '987654321'))
      expect(other.text).toBe('987654321')

      for (const [what, url] of [
        ['wrong token', q(`${verifyToken}x`)],
        ['empty token', q('')],
        ['wrong mode', q(verifyToken, '1158201444', 'unsubscribe')],
        ['no query at all', path],
      ] as const) {
        const bad = await raw(t, 'GET', url)
        expect(bad.status, what).toBe(401)
        expect(bad.contentType, what).toMatch(/^application\/problem\+json/)
        expect(bad.text, what).not.toContain('1158201444')
      }
    })
  }
})
