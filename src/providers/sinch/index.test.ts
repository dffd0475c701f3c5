import { createHmac } from 'node:crypto'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { webhookTable } from '../../../test/harness/fixture-table.js'
import type { Signer } from '../../../test/harness/fixture-table.js'
import { readFixture, readFixtureJson } from '../../../test/harness/fixtures.js'
import type { AccountContext, RawRequest } from '../types.js'
import { createSinchAdapter } from './index.js'
import type { SinchConfig } from './index.js'

// Test signer written from sinch.md §3, independent of the adapter's own code:
// base64(HMAC-SHA256(key = secret UTF-8, msg = raw_body + "." + nonce + "." + timestamp)), padded.
function sinchSign(secret: string, body: Buffer, nonce: string, timestamp: string): string {
  const message = Buffer.concat([body, Buffer.from(`.${nonce}.${timestamp}`, 'utf8')])
  return createHmac('sha256', Buffer.from(secret, 'utf8')).update(message).digest('base64')
}

interface Vector {
  name: string
  body_file: string
  secret: string
  headers: Record<string, string>
  expect_valid: boolean
}
const vectors = readFixtureJson<{ vectors: Vector[] }>('sinch', 'signature_vectors.json').vectors

const SECRET = 'foo_secret1234'
const NOW_MS = 1_700_000_000_000
const NOW_S = String(NOW_MS / 1000)

function account(config: Partial<SinchConfig> = {}): AccountContext<SinchConfig> {
  return {
    id: 'acc_sinch',
    name: 'sinch-main',
    provider: 'sinch',
    channel: 'whatsapp',
    phoneNumber: '+46700000000',
    webhookUrl: 'https://gw.example/webhooks/sinch/sinch-main',
    config: { project_id: 'proj', app_id: 'app', key_id: 'kid', key_secret: 'ksecret', region: 'us', auth_mode: 'oauth', webhook_secret: SECRET, ...config },
  }
}

function unsigned(body: Buffer): RawRequest {
  return { method: 'POST', url: 'https://gw.example/webhooks/sinch/sinch-main', headers: { 'content-type': 'application/json' }, body }
}

function withSignature(req: RawRequest, secret: string, timestamp: string, nonce = '01HZNONCE0000000000000000'): RawRequest {
  return {
    ...req,
    headers: {
      ...req.headers,
      'x-sinch-webhook-signature': sinchSign(secret, req.body, nonce, timestamp),
      'x-sinch-webhook-signature-nonce': nonce,
      'x-sinch-webhook-signature-timestamp': timestamp,
      'x-sinch-webhook-signature-algorithm': 'HmacSHA256',
    },
  }
}

const signer: Signer = {
  sign: (req) => withSignature(req, SECRET, NOW_S),
  forge: (req) => withSignature(req, 'not_the_secret', NOW_S),
  strip: (req) => ({ ...req, headers: { 'content-type': 'application/json' } }),
}

describe('sinch signature vectors (signature_vectors.json)', () => {
  for (const v of vectors) {
    const body = readFixture('sinch', v.body_file)
    const ts = v.headers['x-sinch-webhook-signature-timestamp'] as string

    if (v.expect_valid) {
      it(`${v.name}: the test signer reproduces the published signature`, () => {
        expect(sinchSign(v.secret, body, v.headers['x-sinch-webhook-signature-nonce'] as string, ts)).toBe(
          v.headers['x-sinch-webhook-signature'],
        )
      })
    }

    it(`${v.name}: adapter.verify → ${v.expect_valid ? 'valid' : 'rejected'}`, () => {
      const adapter = createSinchAdapter({ now: () => Number(ts) * 1000 + 30_000 })
      const verdict = adapter.verify(account({ webhook_secret: v.secret }), { ...unsigned(body), headers: { ...v.headers } })
      expect(verdict.ok).toBe(v.expect_valid)
    })
  }

  it('the valid vectors are rejected once their timestamp is older than the 5 minute window', () => {
    const v = vectors.find((x) => x.expect_valid) as Vector
    const ts = Number(v.headers['x-sinch-webhook-signature-timestamp'])
    const req = { ...unsigned(readFixture('sinch', v.body_file)), headers: { ...v.headers } }
    expect(createSinchAdapter({ now: () => (ts + 299) * 1000 }).verify(account(), req).ok).toBe(true)
    expect(createSinchAdapter({ now: () => (ts + 301) * 1000 }).verify(account(), req).ok).toBe(false)
    expect(createSinchAdapter({ now: () => (ts - 301) * 1000 }).verify(account(), req).ok).toBe(false)
  })
})

const adapter = createSinchAdapter({ now: () => NOW_MS })
const whatsapp46712312312 = { phone: '+46712312312', waId: '46712312312' }

webhookTable<SinchConfig>({
  provider: 'sinch',
  adapter,
  account: account(),
  request: (body) => unsigned(body),
  signer,
  nonWebhookFiles: [
    'signature_vectors.json',
    'send_request_whatsapp_template_fragment.json',
    'send_response_sdk_fixture.json',
    'error_400_invalid_argument_sdk_fixture.json',
  ],
  rows: [
    {
      file: 'inbound_text_whatsapp.json',
      status: 200,
      items: [
        {
          kind: 'message',
          message: {
            providerMessageId: '01EBDTPPG3Q3EH14H7DY8X09MG',
            from: whatsapp46712312312,
            type: 'text',
            text: 'Hi from contact',
            // no event_time in this older sample: the message's accept_time
            timestamp: Date.UTC(2020, 5, 22, 10, 55, 39, 521),
            raw: { message: { contact_id: '01EB197NDA4W7V15NPRCVV0S79', conversation_id: '01EB199XQ2CBY50K6WZD9S1A22' } },
          },
        },
      ],
    },
    { file: 'inbound_text_whatsapp.json', auth: 'forged', status: 401 },
    { file: 'inbound_text_whatsapp.json', auth: 'missing', status: 401 },
    {
      file: 'inbound_media_whatsapp.json',
      status: 200,
      items: [
        {
          kind: 'message',
          message: {
            providerMessageId: '01EKJ1534NWK5R02TGWEJN13HA',
            from: whatsapp46712312312,
            type: 'image',
            media: { url: 'https://1vxc0v12qhrm1e72gq1mmxkf-wpengine.netdna-ssl.com/wp-content/uploads/2019/05/Sinch-logo-Events.png' },
            timestamp: Date.UTC(2020, 9, 1, 12, 10, 53, 991),
          },
        },
      ],
    },
    {
      file: 'inbound_location_whatsapp.json',
      status: 200,
      items: [
        {
          kind: 'message',
          message: {
            providerMessageId: '01EBDTT89ZGTGM0P70W0RK0YR2',
            from: whatsapp46712312312,
            type: 'location',
            location: { latitude: 55.727802, longitude: 13.175061, name: 'ICA Jägaren' },
          },
        },
      ],
    },
    {
      file: 'inbound_choice_response_whatsapp.json',
      status: 200,
      items: [
        {
          kind: 'message',
          message: {
            providerMessageId: '01EBDTZMYPHM0G1D0AJFEZ0A4P',
            from: whatsapp46712312312,
            type: 'interactive',
            interactive: { id: 'email_postback' },
            context: { id: '01EBDTZ9SN8HTW092K56PH1GDS' },
          },
        },
      ],
    },
    // A MESSENGER inbound on the same Sinch app is not this WhatsApp sender's conversation; its
    // shape (id, text, reply_to) is checked on a WhatsApp copy in parse.test.ts.
    { file: 'inbound_text_reply_to_sdk_fixture.json', status: 200, items: [{ kind: 'ignored' }] },
    {
      file: 'delivery_read_whatsapp.json',
      status: 200,
      items: [
        {
          kind: 'status',
          status: {
            providerMessageId: '01EBDV9EFP66ZA0GQJ9MCX1V9H',
            status: 'read',
            providerStatus: 'READ',
            recipient: { phone: '+46702471483', waId: '46702471483' },
            timestamp: Date.UTC(2020, 5, 22, 11, 5, 53, 910),
          },
        },
      ],
    },
    {
      file: 'delivery_failed_outside_window_whatsapp.json',
      status: 200,
      items: [
        {
          kind: 'status',
          status: {
            providerMessageId: '01EQBF0BT63J7S1FEKJZ0Z08VD',
            status: 'failed',
            providerStatus: 'FAILED',
            recipient: { phone: '+12345678910', waId: '12345678910' },
            // event_time: the channel's own time
            timestamp: Date.UTC(2020, 10, 17, 16, 1, 7),
            error: {
              code: 'outside_window',
              retryable: false,
              provider_code: 'OUTSIDE_ALLOWED_SENDING_WINDOW',
              provider_message:
                'The underlying channel reported: Message failed to send because more than 24 hours have passed since the customer last replied to this number',
            },
          },
        },
      ],
    },
    { file: 'delivery_failed_outside_window_whatsapp.json', auth: 'forged', status: 401 },
    {
      file: 'delivery_queued_on_channel_messenger.json',
      status: 200,
      items: [{ kind: 'status', status: { providerMessageId: '01EQBC1A3BEK731GY4YXEN0C2R', status: 'sent', providerStatus: 'QUEUED_ON_CHANNEL' } }],
    },
    {
      file: 'delivery_with_reason_sdk_fixture.json',
      status: 200,
      items: [{ kind: 'status', status: { providerMessageId: 'message id', status: 'delivered', providerStatus: 'DELIVERED' } }],
    },
    {
      file: 'opt_out_whatsapp.json',
      status: 200,
      items: [{ kind: 'contact', event: { type: 'opted_out', contact: { phone: '+12345678910', waId: '12345678910' } } }],
    },
    { file: 'opt_out_whatsapp.json', auth: 'missing', status: 401 },
    { file: 'signed_contact_create.body.json', status: 200, items: [{ kind: 'ignored' }] },
    { file: 'signed_contact_create.body.json', auth: 'forged', status: 401 },
    {
      file: 'signed_delivery_queued.body.json',
      status: 200,
      items: [{ kind: 'status', status: { providerMessageId: '01EQBC1A3BEK731GY4YXEN0C2R', status: 'sent', providerStatus: 'QUEUED_ON_CHANNEL' } }],
    },
  ],
})

describe('sinch webhook edge cases', () => {
  const body = readFixture('sinch', 'inbound_text_whatsapp.json')

  it('delivery reports carry no error unless the status is FAILED', () => {
    for (const file of ['delivery_with_reason_sdk_fixture.json', 'delivery_queued_on_channel_messenger.json', 'delivery_read_whatsapp.json']) {
      const [item] = adapter.parse(account(), signer.sign(unsigned(readFixture('sinch', file))))
      expect(item?.kind === 'status' && item.status.error).toBe(undefined)
    }
  })

  it('a correctly signed but stale timestamp → 401', () => {
    const stale = String(NOW_MS / 1000 - 6 * 60)
    expect(adapter.verify(account(), withSignature(unsigned(body), SECRET, stale)).ok).toBe(false)
  })

  it('a timestamp from the future beyond the window → 401', () => {
    const future = String(NOW_MS / 1000 + 6 * 60)
    expect(adapter.verify(account(), withSignature(unsigned(body), SECRET, future)).ok).toBe(false)
  })

  it('the replay window is configurable', () => {
    const strict = createSinchAdapter({ now: () => NOW_MS, replayWindowMs: 10_000 })
    expect(strict.verify(account(), withSignature(unsigned(body), SECRET, String(NOW_MS / 1000 - 5))).ok).toBe(true)
    expect(strict.verify(account(), withSignature(unsigned(body), SECRET, String(NOW_MS / 1000 - 60))).ok).toBe(false)
  })

  it('one changed body byte → 401', () => {
    const signed = signer.sign(unsigned(body))
    const tampered = Buffer.from(body)
    const at = tampered.length - 3
    tampered.writeUInt8(tampered.readUInt8(at) ^ 1, at)
    expect(adapter.verify(account(), { ...signed, body: tampered }).ok).toBe(false)
  })

  it('an unknown signature algorithm → 401', () => {
    const signed = signer.sign(unsigned(body))
    expect(adapter.verify(account(), { ...signed, headers: { ...signed.headers, 'x-sinch-webhook-signature-algorithm': 'HmacSHA1' } }).ok).toBe(false)
  })

  it('an account with neither webhook_secret nor webhook_token accepts nothing', () => {
    const open = account({ webhook_secret: undefined })
    expect(adapter.verify(open, signer.sign(unsigned(body))).ok).toBe(false)
  })

  it('webhook_token: required in the URL (?token=) or as a Bearer header, on top of the signature', () => {
    const acct = account({ webhook_token: 'tok-123' })
    const signed = signer.sign(unsigned(body))
    expect(adapter.verify(acct, signed).ok).toBe(false)
    expect(adapter.verify(acct, { ...signed, url: `${signed.url}?token=tok-123` }).ok).toBe(true)
    expect(adapter.verify(acct, { ...signed, url: `${signed.url}?token=tok-124` }).ok).toBe(false)
    expect(adapter.verify(acct, { ...signed, headers: { ...signed.headers, authorization: 'Bearer tok-123' } }).ok).toBe(true)
    // the token does not replace the signature
    expect(adapter.verify(acct, { ...signer.forge(unsigned(body)), url: `${signed.url}?token=tok-123` }).ok).toBe(false)
  })

  it('webhook_token alone (no HMAC secret) is enough', () => {
    const acct = account({ webhook_secret: undefined, webhook_token: 'tok-123' })
    expect(adapter.verify(acct, { ...unsigned(body), url: 'https://gw.example/webhooks/sinch/sinch-main?token=tok-123' }).ok).toBe(true)
    expect(adapter.verify(acct, unsigned(body)).ok).toBe(false)
  })

  it('non-JSON and non-callback bodies are rejected, not thrown', () => {
    expect(adapter.parse(account(), unsigned(Buffer.from('not json')))).toEqual([{ kind: 'rejected', reason: expect.any(String) }])
    expect(adapter.parse(account(), unsigned(Buffer.from('[1,2]')))[0]?.kind).toBe('rejected')
    expect(adapter.parse(account(), unsigned(Buffer.from('{"hello":1}')))[0]?.kind).toBe('rejected')
    expect(adapter.parse(account(), unsigned(Buffer.from('{"app_id":"a","message":{"id":5}}')))[0]?.kind).toBe('rejected')
  })

  it('redact lists every secret of the config', () => {
    expect(adapter.redact(account({ webhook_token: 'tok-123' }).config).sort()).toEqual(['foo_secret1234', 'ksecret', 'tok-123'])
  })
})

describe('sinch parse/verify never throw (property)', () => {
  const headerArb = fc.dictionary(
    fc.constantFrom(
      'x-sinch-webhook-signature',
      'x-sinch-webhook-signature-nonce',
      'x-sinch-webhook-signature-timestamp',
      'x-sinch-webhook-signature-algorithm',
      'authorization',
      'content-type',
    ),
    fc.oneof(fc.string(), fc.constant(undefined)),
  )
  const bodyArb = fc.oneof(
    fc.uint8Array({ maxLength: 512 }).map((b) => Buffer.from(b)),
    fc.json().map((j) => Buffer.from(j)),
    fc
      .record({
        app_id: fc.oneof(fc.string(), fc.integer()),
        message: fc.anything(),
        message_delivery_report: fc.anything(),
        opt_out_notification: fc.anything(),
        event_time: fc.oneof(fc.string(), fc.anything()),
      }, { requiredKeys: [] })
      .map((o) => Buffer.from(JSON.stringify(o) ?? 'null')),
  )

  it('returns verdicts and items for arbitrary requests', () => {
    const withToken = account({ webhook_token: 'tok' })
    fc.assert(
      fc.property(bodyArb, headerArb, fc.string(), (body, headers, url) => {
        const req: RawRequest = { method: 'POST', url, headers, body }
        for (const acct of [account(), withToken]) {
          const verdict = adapter.verify(acct, req)
          expect(typeof verdict.ok).toBe('boolean')
          const items = adapter.parse(acct, req)
          expect(items.length).toBeGreaterThan(0)
        }
      }),
      { numRuns: 400 },
    )
  })

  it('any body signed the documented way verifies', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 256 }), fc.string({ minLength: 1, maxLength: 40 }), (bytes, nonce) => {
        const req = withSignature(unsigned(Buffer.from(bytes)), SECRET, NOW_S, nonce.trim() || 'n')
        expect(adapter.verify(account(), req).ok).toBe(true)
      }),
    )
  })
})
