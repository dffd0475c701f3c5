import { describe, expect, it } from 'vitest'
import { readFixtureJson } from '../../../test/harness/fixtures.js'
import type { RawRequest, WebhookItem } from '../types.js'
import { parseCallback, partyFromIdentity } from './parse.js'

const NOW = 1_700_000_000_000
const parse = (payload: unknown): WebhookItem[] => parseCallback(request(payload), { now: () => NOW })

function request(payload: unknown): RawRequest {
  return { method: 'POST', url: 'https://gw.example/webhooks/sinch/a', headers: {}, body: Buffer.from(JSON.stringify(payload)) }
}

function asWhatsApp<T extends { message: { channel_identity: Record<string, string> } }>(fixture: T): T {
  return { ...fixture, message: { ...fixture.message, channel_identity: { ...fixture.message.channel_identity, channel: 'WHATSAPP', identity: '46712312312' } } }
}

describe('sinch parse: MESSAGE_INBOUND', () => {
  it('SDK fixture shape (on WhatsApp): id, text, reply_to → context.id, event_time as timestamp', () => {
    const fixture = readFixtureJson<{ message: { channel_identity: Record<string, string> } }>('sinch', 'inbound_text_reply_to_sdk_fixture.json')
    expect(parse(asWhatsApp(fixture))).toMatchObject([
      {
        kind: 'message',
        message: {
          providerMessageId: 'event id',
          type: 'text',
          text: 'This is a text message.',
          context: { id: 'message id value' },
          from: { phone: '+46712312312', waId: '46712312312' },
          timestamp: Date.UTC(2020, 10, 17, 16, 5, 45),
        },
      },
    ])
  })

  it('media_card_message → media with caption', () => {
    const items = parse({
      app_id: 'a',
      message: {
        id: 'm1',
        direction: 'TO_APP',
        channel_identity: { channel: 'WHATSAPP', identity: '46712312312' },
        contact_message: { media_card_message: { url: 'https://x.example/v.mp4', caption: 'my video' } },
      },
    })
    expect(items).toMatchObject([{ kind: 'message', message: { type: 'video', media: { url: 'https://x.example/v.mp4', caption: 'my video' } } }])
  })

  it('a choice response with the default postback recovers the choice text', () => {
    const items = parse({
      app_id: 'a',
      message: {
        id: 'm2',
        channel_identity: { channel: 'WHATSAPP', identity: '46712312312' },
        contact_message: { choice_response_message: { message_id: 'APPMSG', postback_data: 'APPMSG_Yes please' } },
      },
    })
    expect(items).toMatchObject([{ kind: 'message', message: { interactive: { id: 'APPMSG_Yes please', title: 'Yes please' }, context: { id: 'APPMSG' } } }])
  })

  it('a non-numeric WhatsApp identity is a user id, never a phone; no timestamp → the clock', () => {
    const items = parse({
      app_id: 'a',
      message: { id: 'm3', channel_identity: { channel: 'WHATSAPP', identity: 'US.13491208655302741918' }, contact_message: { text_message: { text: 'x' } } },
    })
    expect(items).toEqual([
      expect.objectContaining({ kind: 'message', message: expect.objectContaining({ from: { userId: 'US.13491208655302741918' }, timestamp: NOW }) }),
    ])
  })

  it('unknown contact_message content → unsupported', () => {
    const items = parse({
      app_id: 'a',
      message: { id: 'm4', channel_identity: { channel: 'WHATSAPP', identity: '4671' + '2312312' }, contact_message: { fallback_message: { raw_message: '{}' } } },
    })
    expect(items).toMatchObject([{ kind: 'message', message: { type: 'unsupported' } }])
  })
})

describe('sinch parse: MESSAGE_DELIVERY', () => {
  const report = (extra: Record<string, unknown>) => ({
    app_id: 'a',
    accepted_time: '2020-11-17T16:01:06.374Z',
    message_delivery_report: { message_id: 'M', channel_identity: { channel: 'WHATSAPP', identity: '12345678910' }, ...extra },
  })

  it('SWITCHING_CHANNEL and unknown statuses are ignored', () => {
    expect(parse(report({ status: 'SWITCHING_CHANNEL' }))[0]?.kind).toBe('ignored')
    expect(parse(report({ status: 'SOMETHING_NEW' }))[0]?.kind).toBe('ignored')
  })

  it('FAILED with an unmapped reason → unknown, code kept; without reason → unknown', () => {
    expect(parse(report({ status: 'FAILED', reason: { code: 'BRAND_NEW_CODE', description: 'd' } }))).toMatchObject([
      { kind: 'status', status: { status: 'failed', error: { code: 'unknown', retryable: false, provider_code: 'BRAND_NEW_CODE', provider_message: 'd' } } },
    ])
    expect(parse(report({ status: 'FAILED' }))).toMatchObject([{ kind: 'status', status: { error: { code: 'unknown' } } }])
  })

  it('FAILED RECIPIENT_NOT_REACHABLE → recipient_not_on_whatsapp', () => {
    expect(parse(report({ status: 'FAILED', reason: { code: 'RECIPIENT_NOT_REACHABLE' } }))).toMatchObject([
      { kind: 'status', status: { error: { code: 'recipient_not_on_whatsapp', retryable: false } } },
    ])
  })
})

describe('sinch parse: opt-in / opt-out', () => {
  it('OPT_IN_SUCCEEDED → opted_in; failed requests and other channels are ignored', () => {
    const note = (key: string, status: string, channel = 'WHATSAPP') => ({ app_id: 'a', [key]: { channel, identity: '12345678910', status } })
    expect(parse(note('opt_in_notification', 'OPT_IN_SUCCEEDED'))).toMatchObject([
      { kind: 'contact', event: { type: 'opted_in', contact: { phone: '+12345678910', waId: '12345678910' } } },
    ])
    expect(parse(note('opt_out_notification', 'OPT_OUT_FAILED'))[0]?.kind).toBe('ignored')
    expect(parse(note('opt_out_notification', 'OPT_OUT_SUCCEEDED', 'SMS'))[0]?.kind).toBe('ignored')
  })
})

describe('partyFromIdentity', () => {
  it('normalises numbers with and without +', () => {
    expect(partyFromIdentity('46712312312')).toEqual({ phone: '+46712312312', waId: '46712312312' })
    expect(partyFromIdentity('+46702471483')).toEqual({ phone: '+46702471483', waId: '46702471483' })
    expect(partyFromIdentity('')).toEqual({})
  })
})
