import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { RawRequest, WebhookItem } from '../types.js'
import { parseTwilioRequest } from './parse.js'
import { formRequest, testAccount } from './test-support.js'

const whatsapp = testAccount()
const sms = testAccount({ channel: 'sms' })

function parseForm(fields: Record<string, string>, account = whatsapp): WebhookItem[] {
  return parseTwilioRequest(account, formRequest(new URLSearchParams(fields).toString()))
}

const INBOUND = { MessageSid: 'SM11111111111111111111111111111111', AccountSid: 'AC1', To: 'whatsapp:+14123456789' }

describe('parseTwilioRequest: inbound fields (twilio.md §2)', () => {
  it('reads WaId, ProfileName, ExternalUserId and the reply context', () => {
    const [item] = parseForm({
      ...INBOUND,
      From: 'whatsapp:+5511987654321',
      WaId: '551187654321',
      ProfileName: 'Ana',
      ExternalUserId: 'whatsapp:BR.998877',
      Body: 'yes',
      OriginalRepliedMessageSid: 'SM22222222222222222222222222222222',
      OriginalRepliedMessageSender: 'whatsapp:+14123456789',
    })
    expect(item).toMatchObject({
      kind: 'message',
      message: {
        from: { phone: '+5511987654321', waId: '551187654321', name: 'Ana', userId: 'BR.998877' },
        text: 'yes',
        context: { id: 'SM22222222222222222222222222222222', from: '+14123456789' },
      },
    })
  })

  it('takes a business-scoped user id in From as userId, never as a phone', () => {
    const [item] = parseForm({ ...INBOUND, From: 'whatsapp:US.1234', Body: 'hi' })
    if (item?.kind !== 'message') throw new Error('expected a message')
    expect(item.message.from).toEqual({ userId: 'US.1234' })
  })

  it('reads ButtonPayload beside ButtonText', () => {
    const [item] = parseForm({ ...INBOUND, From: 'whatsapp:+14133881111', Body: 'Yes', ButtonText: 'Yes', ButtonPayload: 'confirm-42' })
    expect(item).toMatchObject({ kind: 'message', message: { type: 'button', button: { text: 'Yes', payload: 'confirm-42' } } })
  })

  it('reads audio media and marks a forwarded message', () => {
    const [item] = parseForm({
      ...INBOUND,
      From: 'whatsapp:+14133881111',
      NumMedia: '1',
      MediaUrl0: 'https://api.twilio.com/media/ME1',
      MediaContentType0: 'audio/ogg',
      Forwarded: 'true',
    })
    expect(item).toMatchObject({ kind: 'message', message: { type: 'audio', media: { mime_type: 'audio/ogg' }, context: { forwarded: true } } })
  })

  it('ignores out-of-range coordinates instead of inventing a location', () => {
    const [item] = parseForm({ ...INBOUND, From: 'whatsapp:+14133881111', Latitude: '123', Longitude: '4', Body: 'x' })
    expect(item).toMatchObject({ kind: 'message', message: { type: 'text' } })
  })

  it('rejects an inbound message whose sender cannot be read', () => {
    expect(parseForm({ ...INBOUND, From: 'not a number', Body: 'x' })).toEqual([{ kind: 'rejected', reason: expect.any(String) }])
  })
})

describe('parseTwilioRequest: opt-out', () => {
  it('OptOutType=STOP adds an opted_out contact event after the message', () => {
    const items = parseForm({ ...INBOUND, From: 'whatsapp:+14133881111', Body: 'Stop', OptOutType: 'STOP' })
    expect(items.map((i) => i.kind)).toEqual(['message', 'contact'])
    expect(items[1]).toMatchObject({ kind: 'contact', event: { type: 'opted_out', contact: { phone: '+14133881111' } } })
  })

  it('OptOutType=START opts the contact back in', () => {
    const items = parseForm({ ...INBOUND, From: 'whatsapp:+14133881111', Body: 'start', OptOutType: 'START' })
    expect(items[1]).toMatchObject({ kind: 'contact', event: { type: 'opted_in' } })
  })

  it('on SMS a whole-body STOP keyword opts out, any case; a sentence does not', () => {
    const sender = { MessageSid: INBOUND.MessageSid, From: '+14133881111', To: '+14123456789' }
    expect(parseForm({ ...sender, Body: ' sToP ' }, sms).map((i) => i.kind)).toEqual(['message', 'contact'])
    expect(parseForm({ ...sender, Body: 'stop please' }, sms).map((i) => i.kind)).toEqual(['message'])
  })

  it('on WhatsApp without OptOutType the word STOP is just text', () => {
    expect(parseForm({ ...INBOUND, From: 'whatsapp:+14133881111', Body: 'STOP' }).map((i) => i.kind)).toEqual(['message'])
  })
})

describe('parseTwilioRequest: status callbacks (twilio.md §3)', () => {
  const base = { MessageSid: 'SM33333333333333333333333333333333', To: 'whatsapp:+31612345678', From: 'whatsapp:+14123456789' }
  const statusOf = (fields: Record<string, string>) => {
    const [item] = parseForm({ ...base, ...fields })
    if (item?.kind !== 'status') throw new Error(`expected a status, got ${JSON.stringify(item)}`)
    return item.status
  }

  it.each([
    ['queued', 'queued'],
    ['sent', 'sent'],
    ['delivered', 'delivered'],
    ['read', 'read'],
    ['failed', 'failed'],
    ['undelivered', 'failed'],
    ['accepted', 'accepted'],
  ])('MessageStatus %s → %s', (word, normalized) => {
    expect(statusOf({ MessageStatus: word })).toMatchObject({ status: normalized, providerStatus: word, address: '+14123456789' })
  })

  it.each([
    ['63016', 'outside_window'],
    ['63024', 'recipient_not_on_whatsapp'],
    ['63049', 'policy_rejected'],
    ['99999', 'unknown'],
  ])('ErrorCode %s → %s, with the message kept', (code, normalized) => {
    expect(statusOf({ MessageStatus: 'undelivered', ErrorCode: code, ErrorMessage: 'from twilio' }).error).toEqual({
      code: normalized,
      retryable: false,
      provider_code: code,
      provider_message: 'from twilio',
    })
  })

  it('ignores an unknown MessageStatus and rejects a callback with no MessageSid', () => {
    expect(parseForm({ ...base, MessageStatus: 'teleported' })[0]).toMatchObject({ kind: 'ignored' })
    expect(parseForm({ MessageStatus: 'sent' })[0]).toMatchObject({ kind: 'rejected' })
  })
})

describe('parseTwilioRequest never throws', () => {
  it('on arbitrary bytes and content types', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), fc.constantFrom(undefined, 'application/json', 'text/plain', 'application/x-www-form-urlencoded'), (bytes, type) => {
        const req: RawRequest = { method: 'POST', url: 'https://x.example/h', headers: { 'content-type': type }, body: Buffer.from(bytes) }
        const items = parseTwilioRequest(whatsapp, req)
        expect(Array.isArray(items)).toBe(true)
        expect(items.length).toBeGreaterThan(0)
      }),
      { numRuns: 500 },
    )
  })

  it('on arbitrary values of the fields it reads', () => {
    const keys = ['MessageSid', 'MessageStatus', 'ErrorCode', 'From', 'To', 'WaId', 'NumMedia', 'MediaUrl0', 'Latitude', 'Longitude', 'ButtonText', 'OptOutType', 'ExternalUserId', 'Body', '__proto__', 'constructor']
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom(...keys), fc.string({ maxLength: 40 })), fc.constantFrom(whatsapp, sms), (fields, account) => {
        const items = parseTwilioRequest(account, formRequest(new URLSearchParams(fields).toString()))
        for (const item of items) expect(['message', 'status', 'contact', 'ignored', 'rejected']).toContain(item.kind)
      }),
      { numRuns: 500 },
    )
  })
})
