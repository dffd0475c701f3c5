import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { webhookTable } from '../../../test/harness/fixture-table.js'
import { readFixture, readFixtureJson } from '../../../test/harness/fixtures.js'
import type { RawRequest, WebhookItem } from '../types.js'
import { createTwilioAdapter } from './index.js'
import { formRequest, signWithTwilioSdk, TEST_AUTH_TOKEN, testAccount } from './test-support.js'

const adapter = createTwilioAdapter()
const account = testAccount()

webhookTable({
  provider: 'twilio',
  adapter,
  account,
  request: (body) => formRequest(body),
  signer: {
    sign: (req) => signWithTwilioSdk(req),
    forge: (req) => signWithTwilioSdk(req, 'not-the-auth-token'),
    strip: (req) => ({ ...req, headers: { 'content-type': req.headers['content-type'] } }),
  },
  nonWebhookFiles: [
    'send_response_201_queued.json',
    'send_response_201_whatsapp_scheduled.json',
    'rest_error_400_21211.json',
    'rest_error_429_20429.json',
    'signature_vectors.json',
  ],
  rows: [
    {
      file: 'inbound_text.txt',
      status: 200,
      items: [
        {
          kind: 'message',
          message: {
            providerMessageId: 'SM892512e202b34d4109b10a3893fa9640',
            from: { phone: '+31612345678' },
            type: 'text',
            text: 'test',
            address: '+14123456789',
          },
        },
      ],
    },
    { file: 'inbound_text.txt', auth: 'forged', status: 401 },
    { file: 'inbound_text.txt', auth: 'missing', status: 401 },
    {
      file: 'inbound_media_image.txt',
      status: 200,
      items: [
        {
          kind: 'message',
          message: {
            providerMessageId: 'MM21151abfaadc1fb79b782f8460862a52',
            from: { phone: '+31612345678' },
            type: 'image',
            text: '',
            media: {
              url: 'https://api.twilio.com/2010-04-01/Accounts/AC1a03647d811fab342c0ad608e382fab2/Messages/MM21151abfaadc1fb79b782f8460862a52/Media/ME5f0afa2336bd0f73ca553fb5a2e3150bc',
              mime_type: 'image/jpeg',
            },
          },
        },
      ],
    },
    { file: 'inbound_media_image.txt', auth: 'forged', status: 401 },
    {
      file: 'inbound_location.txt',
      status: 200,
      items: [
        {
          kind: 'message',
          message: {
            providerMessageId: 'SM9c871cd9649aa3829298e153ae6a8123',
            from: { phone: '+31612345678' },
            type: 'location',
            text: '',
            location: {
              latitude: 52.303897857666016,
              longitude: 4.750025749206543,
              address: 'Evert van de Beekstraat 354, Schiphol, North Holland 1118 CZ',
              name: 'Microsoft',
            },
          },
        },
      ],
    },
    {
      file: 'inbound_button_reply.txt',
      status: 200,
      items: [
        {
          kind: 'message',
          message: {
            providerMessageId: 'SMe287d7109a5a925f182f0e07fe5b223b',
            from: { phone: '+14133881111' },
            type: 'button',
            text: 'Confirm',
            button: { text: 'Confirm' },
          },
        },
      ],
    },
    {
      file: 'inbound_bsuid_external_user_id.txt',
      status: 200,
      items: [
        {
          kind: 'message',
          message: {
            providerMessageId: 'SMe287d7109a5a925f182f0e07fe5b223b',
            from: { phone: '+14133881111', userId: 'US.1234' },
            type: 'text',
            text: 'Msg',
          },
        },
      ],
    },
    { file: 'inbound_bsuid_external_user_id.txt', auth: 'missing', status: 401 },
    {
      file: 'status_sent.txt',
      status: 200,
      items: [
        {
          kind: 'status',
          status: {
            providerMessageId: 'SM0cec4ed334e74bcbb64eb8b6684e9654',
            status: 'sent',
            providerStatus: 'sent',
            recipient: { phone: '+31612345678' },
          },
        },
      ],
    },
    { file: 'status_sent.txt', auth: 'forged', status: 401 },
    {
      file: 'status_delivered.txt',
      status: 200,
      items: [
        {
          kind: 'status',
          status: { providerMessageId: 'SMdf55df64a2ff4920bb0748193cfbb640', status: 'delivered', providerStatus: 'delivered' },
        },
      ],
    },
    {
      file: 'status_read.txt',
      status: 200,
      items: [{ kind: 'status', status: { providerMessageId: 'SMe287d7109a5a925f182f0e07fe5b223b', status: 'read' } }],
    },
    { file: 'status_read.txt', auth: 'missing', status: 401 },
    {
      file: 'status_failed_21610_stop.txt',
      status: 200,
      items: [
        {
          kind: 'status',
          status: {
            providerMessageId: 'SMe287d7109a5a925f182f0e07fe5b223b',
            status: 'failed',
            providerStatus: 'failed',
            recipient: { phone: '+12028831111' },
            error: { code: 'recipient_opted_out', retryable: false, provider_code: '21610' },
          },
        },
        { kind: 'contact', event: { type: 'opted_out', contact: { phone: '+12028831111' } } },
      ],
    },
    {
      file: 'status_failed_63018_rate_limit.txt',
      status: 200,
      items: [
        {
          kind: 'status',
          status: {
            providerMessageId: 'SMe287d7109a5a925f182f0e07fe5b223b',
            status: 'failed',
            error: { code: 'throttled', retryable: true, provider_code: '63018' },
          },
        },
      ],
    },
    { file: 'status_failed_63018_rate_limit.txt', auth: 'forged', status: 401 },
  ],
})

function parseFixture(file: string): WebhookItem[] {
  return adapter.parse(account, formRequest(readFixture('twilio', file)))
}

describe('twilio fixtures: what the table cannot say', () => {
  it('status callbacks without ErrorCode carry no error', () => {
    for (const file of ['status_sent.txt', 'status_delivered.txt', 'status_read.txt']) {
      const [item] = parseFixture(file)
      expect(item?.kind).toBe('status')
      if (item?.kind === 'status') expect(item.status.error).toBeUndefined()
    }
  })

  it('a plain text message has no media, location or button', () => {
    const [item] = parseFixture('inbound_text.txt')
    if (item?.kind !== 'message') throw new Error('expected a message')
    expect(item.message.media).toBeUndefined()
    expect(item.message.location).toBeUndefined()
    expect(item.message.button).toBeUndefined()
  })

  it('Twilio callbacks carry no event time, so the timestamp is the parse time', () => {
    const before = Date.now()
    const [item] = parseFixture('status_read.txt')
    const after = Date.now()
    if (item?.kind !== 'status') throw new Error('expected a status')
    expect(item.status.timestamp).toBeGreaterThanOrEqual(before)
    expect(item.status.timestamp).toBeLessThanOrEqual(after)
  })
})

interface FormVector {
  name: string
  url?: string
  request_url?: string
  signed_url?: string
  params: Record<string, string | string[]>
  expected: string
}
interface JsonVector {
  name: string
  body: string
  url?: string
  request_url?: string
  expected: string
}
const vectors = readFixtureJson<{ auth_token: string; form_vectors: FormVector[]; json_body_vectors: JsonVector[] }>(
  'twilio',
  'signature_vectors.json',
)
const vectorAccount = testAccount({ config: { auth_token: vectors.auth_token } })

function formBody(params: Record<string, string | string[]>): Buffer {
  const form = new URLSearchParams()
  for (const [key, value] of Object.entries(params)) for (const v of [value].flat()) form.append(key, v)
  return Buffer.from(form.toString())
}

describe('signature_vectors.json', () => {
  for (const v of vectors.form_vectors) {
    const url = v.request_url ?? v.url ?? ''
    it(`form vector ${v.name} verifies`, () => {
      const req = formRequest(formBody(v.params), url)
      expect(adapter.verify(vectorAccount, { ...req, headers: { ...req.headers, 'x-twilio-signature': v.expected } })).toEqual({ ok: true })
    })
    it(`form vector ${v.name} fails with one param changed`, () => {
      const tampered = { ...v.params, Extra: 'x' }
      const req = formRequest(formBody(tampered), url)
      expect(adapter.verify(vectorAccount, { ...req, headers: { ...req.headers, 'x-twilio-signature': v.expected } }).ok).toBe(false)
    })
  }

  for (const v of vectors.json_body_vectors) {
    const url = v.request_url ?? v.url ?? ''
    const jsonRequest = (body: string): RawRequest => ({
      method: 'POST',
      url,
      headers: { 'content-type': 'application/json', 'x-twilio-signature': v.expected },
      body: Buffer.from(body),
    })
    it(`JSON vector ${v.name} verifies`, () => {
      expect(adapter.verify(vectorAccount, jsonRequest(v.body))).toEqual({ ok: true })
    })
    it(`JSON vector ${v.name} fails when the body changes`, () => {
      expect(adapter.verify(vectorAccount, jsonRequest(`${v.body} `)).ok).toBe(false)
    })
  }
})

describe('X-Twilio-Signature URL variants', () => {
  const body = readFixture('twilio', 'inbound_text.txt')

  it('accepts a signature made over the URL with :443 when the request URL has none', () => {
    const req = signWithTwilioSdk(formRequest(body, 'https://gw.example.com/webhooks/twilio/tw-main'), TEST_AUTH_TOKEN, 'https://gw.example.com:443/webhooks/twilio/tw-main')
    expect(adapter.verify(account, req)).toEqual({ ok: true })
  })

  it('accepts a signature made without the port when the request URL has :443', () => {
    const req = signWithTwilioSdk(formRequest(body, 'https://gw.example.com:443/webhooks/twilio/tw-main'), TEST_AUTH_TOKEN, 'https://gw.example.com/webhooks/twilio/tw-main')
    expect(adapter.verify(account, req)).toEqual({ ok: true })
  })

  it('accepts :80 for http and refuses a different path', () => {
    const ok = signWithTwilioSdk(formRequest(body, 'http://gw.example.com/hook?x=1'), TEST_AUTH_TOKEN, 'http://gw.example.com:80/hook?x=1')
    expect(adapter.verify(account, ok).ok).toBe(true)
    const other = signWithTwilioSdk(formRequest(body, 'https://gw.example.com/hook'), TEST_AUTH_TOKEN, 'https://gw.example.com/other')
    expect(adapter.verify(account, other).ok).toBe(false)
  })

  it('does not treat a non-default port as optional', () => {
    const req = signWithTwilioSdk(formRequest(body, 'https://gw.example.com:8443/hook'), TEST_AUTH_TOKEN, 'https://gw.example.com/hook')
    expect(adapter.verify(account, req).ok).toBe(false)
  })

  it('verifies a JSON body through bodySHA256 signed by the twilio package', () => {
    const json = '{"event":"x","n":1}'
    const hash = createHash('sha256').update(json).digest('hex')
    const req = signWithTwilioSdk({
      method: 'POST',
      url: `https://gw.example.com/webhooks/twilio/tw-main?bodySHA256=${hash}`,
      headers: { 'content-type': 'application/json' },
      body: Buffer.from(json),
    })
    expect(adapter.verify(account, req)).toEqual({ ok: true })
    expect(adapter.parse(account, req)).toEqual([{ kind: 'ignored', reason: expect.any(String) }])
  })

  it('refuses a JSON body without bodySHA256 even when the URL is signed', () => {
    const req = signWithTwilioSdk({
      method: 'POST',
      url: 'https://gw.example.com/webhooks/twilio/tw-main',
      headers: { 'content-type': 'application/json' },
      body: Buffer.from('{}'),
    })
    expect(adapter.verify(account, req).ok).toBe(false)
  })

  it('refuses every webhook when the account has only an API key (Twilio signs with the Auth Token)', () => {
    const apiKeyOnly = testAccount({
      config: { auth_token: undefined, api_key_sid: `SK${'1'.repeat(32)}`, api_key_secret: 'key-secret' },
    })
    expect(adapter.verify(apiKeyOnly, signWithTwilioSdk(formRequest(body))).ok).toBe(false)
  })
})

describe('createTwilioAdapter', () => {
  it('is the twilio adapter and redacts the secrets', () => {
    expect(adapter.id).toBe('twilio')
    const config = testAccount({ config: { api_key_sid: `SK${'2'.repeat(32)}`, api_key_secret: 'k-secret' } }).config
    expect(adapter.redact(config).sort()).toEqual(['k-secret', TEST_AUTH_TOKEN].sort())
  })

  it('offers different capabilities per channel', () => {
    const wa = adapter.capabilities('whatsapp')
    const sms = adapter.capabilities('sms')
    expect(wa.types).toEqual(expect.arrayContaining(['text', 'image', 'template', 'location']))
    expect(wa.types).not.toContain('interactive')
    expect(wa.types).not.toContain('reaction')
    expect(sms.types).not.toContain('template')
    expect(sms.types).not.toContain('location')
    expect(wa.userIdRecipients).toBe(true)
    expect(sms.userIdRecipients).toBe(false)
    expect(wa.textMaxLength).toBe(1600)
    expect(wa.media.image?.maxBytes).toBe(5 * 1024 * 1024)
    expect(wa.media.video?.maxBytes).toBe(16 * 1024 * 1024)
  })
})
