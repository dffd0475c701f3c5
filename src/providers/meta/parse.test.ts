import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { readFixtureJson } from '../../../test/harness/fixtures.js'
import type { AccountContext, RawRequest, WebhookItem } from '../types.js'
import { createMetaAdapter, metaConfigSchema, signMetaBody, type MetaConfig } from './index.js'
import { metaRouteKeys, parseMetaWebhook } from './parse.js'

const req = (body: string | Buffer): RawRequest => ({
  method: 'POST',
  url: 'https://gw.example/webhooks/meta',
  headers: {},
  body: Buffer.isBuffer(body) ? body : Buffer.from(body),
})

/** A webhook with one messages change carrying `value`. */
const envelope = (value: Record<string, unknown>, field = 'messages') =>
  JSON.stringify({
    object: 'whatsapp_business_account',
    entry: [{ id: 'WABA', changes: [{ field, value: { messaging_product: 'whatsapp', metadata: { phone_number_id: 'PNID' }, ...value } }] }],
  })

const message = (extra: Record<string, unknown>) => ({ from: '16505551234', id: 'wamid.in1', timestamp: '1700000000', type: 'text', text: { body: 'hi' }, ...extra })

describe('parseMetaWebhook: refusals', () => {
  it.each([
    ['invalid JSON', '{"object":'],
    ['a JSON number', '42'],
    ['null', 'null'],
    ['an array', '[]'],
    ['an object without entry', '{"object":"whatsapp_business_account"}'],
    ['non-UTF-8 bytes', Buffer.from([0xff, 0xfe, 0x00, 0x7b])],
  ])('%s → one rejected item', (_name, body) => {
    const items = parseMetaWebhook(req(body))
    expect(items).toHaveLength(1)
    expect(items[0]?.kind).toBe('rejected')
  })

  it('other webhook fields are ignored, not rejected', () => {
    const items = parseMetaWebhook(req(envelope({ event: 'VERIFIED_ACCOUNT' }, 'account_update')))
    expect(items).toEqual([{ kind: 'ignored', reason: "field 'account_update'" }])
  })

  it('other webhook objects are ignored', () => {
    expect(parseMetaWebhook(req('{"object":"page","entry":[]}'))[0]?.kind).toBe('ignored')
  })

  it('an unknown status word is rejected, its neighbours still parse', () => {
    const items = parseMetaWebhook(
      req(
        envelope({
          statuses: [
            { id: 'wamid.a', status: 'teleported', timestamp: '1700000000', recipient_id: '16505551234' },
            { id: 'wamid.b', status: 'delivered', timestamp: '1700000001', recipient_id: '16505551234' },
          ],
        }),
      ),
    )
    expect(items.map((i) => i.kind)).toEqual(['rejected', 'status'])
    expect(items[1]).toMatchObject({ status: { providerMessageId: 'wamid.b', status: 'delivered', timestamp: 1700000001000 } })
  })

  it('a message with a broken shape or no sender is rejected', () => {
    const items = parseMetaWebhook(
      req(envelope({ messages: [message({ timestamp: 'yesterday' }), message({ from: undefined }), message({ from: 'not a number' }), message({ type: 'text', text: undefined })] })),
    )
    expect(items.map((i) => i.kind)).toEqual(['rejected', 'rejected', 'rejected', 'rejected'])
  })
})

describe('parseMetaWebhook: details', () => {
  it('a sender with only a user id has no phone and no wa_id', () => {
    const items = parseMetaWebhook(req(JSON.stringify(readFixtureJson('meta', 'webhook-text-bsuid-only-no-phone.json'))))
    const from = items[0]?.kind === 'message' ? items[0].message.from : undefined
    expect(from?.userId).toBe('US.1234')
    expect(from).not.toHaveProperty('phone')
    expect(from).not.toHaveProperty('waId')
  })

  it('a BSUID in `from` is a user id, never a phone', () => {
    const items = parseMetaWebhook(req(envelope({ messages: [message({ from: 'US.13491208655302741918' })] })))
    expect(items[0]).toMatchObject({ kind: 'message', message: { from: { userId: 'US.13491208655302741918' } } })
    const from = items[0]?.kind === 'message' ? items[0].message.from : undefined
    expect(from).toBeDefined()
    expect(from).not.toHaveProperty('phone')
    expect(from).not.toHaveProperty('waId')
  })

  it('timestamps already in milliseconds are kept', () => {
    const items = parseMetaWebhook(req(envelope({ messages: [message({ timestamp: '1700000000123' })] })))
    expect(items[0]).toMatchObject({ message: { timestamp: 1700000000123 } })
  })

  it('a media caption becomes the text; voice notes are audio', () => {
    const items = parseMetaWebhook(
      req(
        envelope({
          messages: [
            message({ type: 'document', text: undefined, document: { id: 'm1', caption: 'the invoice', filename: 'inv.pdf', mime_type: 'application/pdf' } }),
            message({ id: 'wamid.in2', type: 'voice', text: undefined, voice: { id: 'm2', mime_type: 'audio/ogg; codecs=opus' } }),
          ],
        }),
      ),
    )
    expect(items[0]).toMatchObject({ message: { type: 'document', text: 'the invoice', media: { id: 'm1', filename: 'inv.pdf' } } })
    expect(items[1]).toMatchObject({ message: { type: 'audio', media: { id: 'm2', mime_type: 'audio/ogg; codecs=opus' } } })
  })

  it('an un-reaction has an empty emoji', () => {
    const items = parseMetaWebhook(req(envelope({ messages: [message({ type: 'reaction', text: undefined, reaction: { message_id: 'wamid.t' } })] })))
    expect(items[0]).toMatchObject({ message: { type: 'reaction', reaction: { message_id: 'wamid.t', emoji: '' } } })
  })

  it('a message type we do not model is kept as unsupported', () => {
    const items = parseMetaWebhook(req(envelope({ messages: [message({ type: 'request_welcome', text: undefined })] })))
    expect(items[0]).toMatchObject({ kind: 'message', message: { type: 'unsupported' } })
  })

  it('user_changed_number becomes a wa_id_changed contact event', () => {
    const system = {
      from: '16505551234',
      id: 'wamid.sys',
      timestamp: '1700000000',
      type: 'system',
      system: { body: 'User A changed from +1 650-555-1234 to +1 650-555-9999', wa_id: '16505559999', type: 'user_changed_number' },
    }
    const items = parseMetaWebhook(req(envelope({ messages: [system] })))
    expect(items).toHaveLength(1)
    expect(items[0]).toMatchObject({
      kind: 'contact',
      event: { type: 'wa_id_changed', contact: { phone: '+16505551234', waId: '16505551234' }, newWaId: '16505559999', timestamp: 1700000000000, address: 'PNID' },
    })
  })

  it('a status recipient that is only a user id stays a user id', () => {
    const items = parseMetaWebhook(req(envelope({ statuses: [{ id: 'wamid.s', status: 'read', timestamp: '1700000000', recipient_user_id: 'US.99' }] })))
    expect(items[0]).toMatchObject({ kind: 'status', status: { status: 'read', recipient: { userId: 'US.99' } } })
    expect(items[0]?.kind === 'status' && items[0].status.recipient).toEqual({ userId: 'US.99' })
  })

  it('reads every entry and every change, in order', () => {
    const body = JSON.stringify({
      object: 'whatsapp_business_account',
      entry: [
        { id: 'A', changes: [{ field: 'messages', value: { metadata: { phone_number_id: 'P1' }, messages: [message({ id: 'wamid.1' })] } }] },
        {
          id: 'B',
          changes: [
            { field: 'message_template_status_update', value: { event: 'APPROVED' } },
            { field: 'messages', value: { metadata: { phone_number_id: 'P2' }, statuses: [{ id: 'wamid.2', status: 'played', timestamp: 1700000000 }] } },
          ],
        },
      ],
    })
    const items: WebhookItem[] = parseMetaWebhook(req(body))
    expect(items.map((i) => i.kind)).toEqual(['message', 'ignored', 'status'])
    expect(items[0]).toMatchObject({ message: { providerMessageId: 'wamid.1', address: 'P1' } })
    expect(items[2]).toMatchObject({ status: { providerMessageId: 'wamid.2', status: 'played', address: 'P2' } })
  })

  it('a failed status with an unreadable error still fails, as unknown', () => {
    const items = parseMetaWebhook(req(envelope({ statuses: [{ id: 'wamid.f', status: 'failed', timestamp: '1700000000', errors: ['boom'] }] })))
    expect(items[0]).toMatchObject({ status: { status: 'failed', error: { code: 'unknown', retryable: false } } })
  })
})

describe('metaRouteKeys', () => {
  it('lists each phone_number_id once, and nothing for hostile bodies', () => {
    expect(metaRouteKeys(req(envelope({ messages: [] })))).toEqual(['PNID'])
    expect(metaRouteKeys(req('{"entry":{"changes":[]}}'))).toEqual([])
    expect(metaRouteKeys(req(Buffer.from([0xc3, 0x28])))).toEqual([])
  })
})

const APP_SECRET = 'property-secret'
const adapter = createMetaAdapter()
const account: AccountContext<MetaConfig> = {
  id: 'acc_p',
  name: 'p',
  provider: 'meta',
  channel: 'whatsapp',
  phoneNumber: '+15550000000',
  config: metaConfigSchema.parse({ phone_number_id: '1', access_token: 't', app_secret: APP_SECRET }),
  webhookUrl: 'https://gw.example/webhooks/meta/p',
}
const webhookRequest = (body: Buffer): RawRequest => ({ ...req(body), url: account.webhookUrl })

describe('hostile input', () => {
  const hex64 = fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEF'), minLength: 64, maxLength: 64 })
  const headerValue = fc.oneof(fc.string(), fc.constant(undefined), fc.string().map((s) => `sha256=${s}`), hex64.map((h) => `sha256=${h}`))

  it('parse() and verify() never throw on arbitrary bytes and headers', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), headerValue, (bytes, signature) => {
        const req: RawRequest = { method: 'POST', url: account.webhookUrl, headers: { 'x-hub-signature-256': signature }, body: Buffer.from(bytes) }
        const verdict = adapter.verify(account, req)
        expect(verdict.ok).toBe(false)
        const items = adapter.parse(account, req)
        expect(items.length).toBeGreaterThan(0)
        expect(adapter.routeKeys?.(req)).toBeInstanceOf(Array)
      }),
      { numRuns: 300 },
    )
  })

  it('parse() never throws on arbitrary JSON, and a signed body verifies', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const body = Buffer.from(JSON.stringify(value) ?? 'null')
        const req: RawRequest = { ...webhookRequest(body), headers: { 'x-hub-signature-256': signMetaBody(APP_SECRET, body) } }
        expect(adapter.verify(account, req)).toEqual({ ok: true })
        for (const item of adapter.parse(account, req)) expect(['rejected', 'ignored']).toContain(item.kind)
      }),
      { numRuns: 300 },
    )
  })

  it('parse() never throws when envelope pieces are replaced by arbitrary values', () => {
    const anything = fc.anything({ maxDepth: 2, maxKeys: 4 })
    const envelope = fc.record({
      object: fc.constant('whatsapp_business_account'),
      entry: fc.array(
        fc.record({
          changes: fc.array(
            fc.record({
              field: fc.constant('messages'),
              value: fc.record({
                metadata: fc.oneof(anything, fc.constant({ phone_number_id: '1' })),
                contacts: fc.oneof(anything, fc.array(anything)),
                messages: fc.oneof(anything, fc.array(anything)),
                statuses: fc.oneof(anything, fc.array(anything)),
                errors: fc.oneof(anything, fc.array(anything)),
              }),
            }),
          ),
        }),
      ),
    })
    fc.assert(
      fc.property(envelope, (value) => {
        let body: Buffer
        try {
          body = Buffer.from(JSON.stringify(value))
        } catch {
          return // values JSON cannot represent (BigInt) never reach the wire
        }
        const items = adapter.parse(account, webhookRequest(body))
        expect(Array.isArray(items)).toBe(true)
      }),
      { numRuns: 300 },
    )
  })
})
