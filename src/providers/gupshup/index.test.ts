import { describe, expect, it } from 'vitest'
import { webhookTable, type Signer } from '../../../test/harness/fixture-table.js'
import { readFixture } from '../../../test/harness/fixtures.js'
import type { RawRequest } from '../types.js'
import { createGupshupAdapter } from './index.js'
import { TEST_TOKEN, WEBHOOK_BASE, testAccount } from './test-support.js'

const adapter = createGupshupAdapter()
const account = testAccount()

/** The token is the last URL segment; a forgery has the same length, a stripped URL none at all. */
const signer: Signer = {
  sign: (req) => ({ ...req, url: `${req.url}/${TEST_TOKEN}` }),
  forge: (req) => ({ ...req, url: `${req.url}/${'z'.repeat(TEST_TOKEN.length)}` }),
  strip: (req) => req,
}

function request(body: Buffer): RawRequest {
  return { method: 'POST', url: WEBHOOK_BASE, headers: { 'content-type': 'application/json', 'user-agent': 'Gupshup' }, body }
}

// Expected values come from test/fixtures/gupshup/index.md and the payloads it describes.
webhookTable({
  provider: 'gupshup',
  adapter,
  account,
  request,
  signer,
  nonWebhookFiles: ['send-response-submitted.json', 'send-response-error-auth-failed.json'],
  rows: [
    {
      file: 'inbound-text.json',
      status: 200,
      items: [
        {
          kind: 'message',
          message: {
            providerMessageId: 'ABEGkYaYVSEEAhAL3SLAWwHKeKrt6s3FKB0c',
            type: 'text',
            text: 'Hi',
            timestamp: 1580227766370,
            from: { waId: '918x98xx21x4', name: 'Andy' },
          },
        },
      ],
    },
    { file: 'inbound-text.json', auth: 'forged', status: 401 },
    { file: 'inbound-text.json', auth: 'missing', status: 401 },
    {
      file: 'inbound-text-reply-with-context.json',
      status: 200,
      items: [
        {
          kind: 'message',
          message: {
            providerMessageId: 'ABEGkYaYVSEEAgo-sMx1DoUoQJRW',
            type: 'text',
            text: 'hi',
            from: { name: 'Jacob' },
            // The Gupshup id of our outbound message is what send() returned.
            context: { id: '9b71295f-f7af-4c1f-b2b4-31b4a4867bad' },
          },
        },
      ],
    },
    {
      file: 'inbound-image.json',
      status: 200,
      items: [
        {
          kind: 'message',
          message: {
            providerMessageId: 'ABEGkZUTIXZ0Ago69N5XB9zTUbl-',
            type: 'image',
            timestamp: 1718003620228,
            from: { name: 'SJ' },
            media: {
              url: 'https://filemanager.gupshup.io/wa/23038a99-929b-408b-80eb-4d30cebb93d4/wa/media/2f997fea-9696-46c4-a2e5-8667fd27988d?download=false',
              mime_type: 'image/jpeg',
              caption: 'Sample image',
            },
          },
        },
      ],
    },
    { file: 'inbound-image.json', auth: 'forged', status: 401 },
    {
      file: 'inbound-list-reply.json',
      status: 200,
      items: [
        {
          kind: 'message',
          message: {
            providerMessageId: 'ABEGkYaYVSEEAhCzqobr15BdMPcRup1fIXAJ',
            type: 'interactive',
            interactive: {
              type: 'list_reply',
              // The row's own payload identifies the choice; `list1` is the list's msgid.
              id: 'section 1 row 1 postback payload',
              title: 'section 1 row 1',
              description: 'first row of first section description',
            },
            context: { id: 'cbdafe39-1023-42a7-89d6-6c01a3388bb5' },
          },
        },
      ],
    },
    {
      file: 'inbound-button-reply.json',
      status: 200,
      items: [
        {
          kind: 'message',
          message: {
            providerMessageId: 'ABEGkYaYVSEEAhCzqobr15BdMPcRup1fIXAJ',
            type: 'interactive',
            from: { name: 'John' },
            interactive: { type: 'button_reply', id: 'qr1', title: 'First' },
            context: { id: '123b0fb2-0620-493b-8f7e-5a1ceb6d8c58' },
          },
        },
      ],
    },
    {
      file: 'inbound-template-quick-reply-postback.json',
      status: 200,
      items: [
        {
          kind: 'message',
          message: {
            providerMessageId: '<MESSAGE_ID>',
            type: 'button',
            timestamp: 1712230664720,
            button: { text: '<BUTTON_TEXT>', payload: '<POSTBACK_TEXT>' },
            context: { id: '<MESSAGE_ID>', forwarded: false },
            from: { name: '<SENDER_NAME>' },
          },
        },
      ],
    },
    {
      file: 'inbound-text-with-bsuid-userId.json',
      status: 200,
      items: [
        {
          kind: 'message',
          message: {
            providerMessageId: 'wamid.HBgMOTE3NTA2MDgwNDgwFQIAEhgUM0FFNTVCQzgxQzNBQUExQzUwMEMA',
            type: 'text',
            text: 'Hello partner portal',
            timestamp: 1776944344359,
            from: { phone: '+917506080480', waId: '917506080480', userId: 'IN.1648738043044942', name: 'Avadhoot Yadav' },
          },
        },
      ],
    },
    {
      file: 'event-enqueued.json',
      status: 200,
      items: [
        {
          kind: 'status',
          status: { providerMessageId: '59f8db90-c37e-4408-90ab-cc54ef8246ad', status: 'queued', providerStatus: 'enqueued', timestamp: 1580546677791 },
        },
      ],
    },
    { file: 'event-enqueued.json', auth: 'forged', status: 401 },
    {
      file: 'event-failed-sync-1008.json',
      status: 200,
      items: [
        {
          kind: 'status',
          status: {
            providerMessageId: 'ee4a68a0-1203-4c85-8dc3-49d0b3226a35',
            status: 'failed',
            providerStatus: 'failed',
            error: { code: 'outside_window', retryable: false, provider_code: '1008', provider_message: 'User is not Opted in and Inactive' },
          },
        },
      ],
    },
    {
      file: 'event-failed-async-470.json',
      status: 200,
      items: [
        {
          kind: 'status',
          status: {
            providerMessageId: '72f61f22-5aa4-4615-a970-943edf6da01c',
            status: 'failed',
            error: {
              code: 'outside_window',
              provider_code: '470',
              provider_message: 'Message failed to send because more than 24 hours have passed since the customer last replied to this number',
            },
          },
        },
      ],
    },
    {
      file: 'event-delivered.json',
      status: 200,
      items: [
        {
          kind: 'status',
          status: {
            providerMessageId: '1a6207e5-af37-4fc8-948a-25867d3ab077',
            status: 'delivered',
            providerStatus: 'delivered',
            timestamp: 1747136693404,
            recipient: { waId: '917980890978' },
          },
        },
      ],
    },
    { file: 'event-delivered.json', auth: 'missing', status: 401 },
    {
      file: 'event-read.json',
      status: 200,
      items: [
        {
          kind: 'status',
          status: { providerMessageId: 'ee4a68a0-1203-4c85-8dc3-49d0b3226a35', status: 'read', timestamp: 1585344602933 },
        },
      ],
    },
    {
      file: 'event-mismatch-brazil.json',
      status: 200,
      items: [
        {
          kind: 'contact',
          event: { type: 'wa_id_changed', contact: { phone: '+553587654321' }, newWaId: '5593587654321', timestamp: 1580546677791 },
        },
      ],
    },
    {
      file: 'user-event-opted-out.json',
      status: 200,
      items: [{ kind: 'contact', event: { type: 'opted_out', contact: { waId: '918x98xx21x4' }, timestamp: 1584541505908 } }],
    },
    { file: 'user-event-opted-out.json', auth: 'forged', status: 401 },
  ],
})

/** A fixture with its masked numbers replaced by real digits, to check phone extraction. */
function unmasked(file: string, replacements: Record<string, string>): RawRequest {
  let text = readFixture('gupshup', file).toString('utf8')
  for (const [from, to] of Object.entries(replacements)) text = text.split(from).join(to)
  return signer.sign(request(Buffer.from(text)))
}

describe('gupshup adapter beyond the fixtures', () => {
  it('is the gupshup adapter and redacts both secrets', () => {
    expect(adapter.id).toBe('gupshup')
    expect(adapter.redact(account.config)).toEqual(expect.arrayContaining([account.config.api_key, TEST_TOKEN]))
  })

  it('reads a real sender number as E.164 phone and wa_id', () => {
    const req = unmasked('inbound-text.json', { '918x98xx21x4': '919812345674' })
    const [item] = adapter.parse(account, req)
    expect(item).toMatchObject({ kind: 'message', message: { from: { phone: '+919812345674', waId: '919812345674', name: 'Andy' } } })
  })

  it('never treats a masked number as a phone', () => {
    const [item] = adapter.parse(account, signer.sign(request(readFixture('gupshup', 'inbound-text.json'))))
    expect(item?.kind).toBe('message')
    if (item?.kind === 'message') expect(item.message.from).not.toHaveProperty('phone')
  })

  it('takes the wa_id from the destination of a sent event', () => {
    const body = {
      app: 'DemoApp',
      timestamp: 1585344600000,
      version: 2,
      type: 'message-event',
      payload: { id: 'gBEGkYaYVSEEAgnZxQ3JmKK6Wvg', gsId: 'ee4a68a0-1203-4c85-8dc3-49d0b3226a35', type: 'sent', destination: '5511987654321', payload: { ts: 1585344599 } },
    }
    const items = adapter.parse(account, signer.sign(request(Buffer.from(JSON.stringify(body)))))
    expect(items).toEqual([
      {
        kind: 'status',
        status: expect.objectContaining({
          providerMessageId: 'ee4a68a0-1203-4c85-8dc3-49d0b3226a35',
          status: 'sent',
          recipient: { waId: '5511987654321' },
        }),
      },
    ])
  })

  it('maps an opted-in user-event to opted_in and ignores sandbox-start', () => {
    const optIn = unmasked('user-event-opted-out.json', { 'opted-out': 'opted-in', '918x98xx21x4': '919812345674' })
    expect(adapter.parse(account, optIn)).toMatchObject([{ kind: 'contact', event: { type: 'opted_in', contact: { phone: '+919812345674' } } }])
    const sandbox = unmasked('user-event-opted-out.json', { 'opted-out': 'sandbox-start', '918x98xx21x4': 'callbackSetPhone' })
    expect(adapter.parse(account, sandbox)).toMatchObject([{ kind: 'ignored' }])
  })

  it('maps failed events with Gupshup codes through the table', () => {
    const notOnWhatsApp = unmasked('event-failed-sync-1008.json', { '1008': '1002' })
    expect(adapter.parse(account, notOnWhatsApp)).toMatchObject([{ kind: 'status', status: { error: { code: 'recipient_not_on_whatsapp', provider_code: '1002' } } }])
    const optedOut = unmasked('event-failed-sync-1008.json', { '1008': '1012' })
    expect(adapter.parse(account, optedOut)).toMatchObject([{ kind: 'status', status: { error: { code: 'recipient_opted_out' } } }])
  })

  it('ignores billing events and rejects bodies that are not Gupshup callbacks', () => {
    const billing = { app: 'DemoApp', timestamp: 1, version: 2, type: 'billing-event', payload: { deductions: {}, references: {} } }
    expect(adapter.parse(account, signer.sign(request(Buffer.from(JSON.stringify(billing)))))).toMatchObject([{ kind: 'ignored' }])
    expect(adapter.parse(account, signer.sign(request(Buffer.from('not json'))))).toMatchObject([{ kind: 'rejected' }])
    expect(adapter.parse(account, signer.sign(request(Buffer.from('{"object":"whatsapp_business_account"}'))))).toMatchObject([{ kind: 'rejected' }])
  })

  it('offers WhatsApp capabilities without reactions or user-id recipients', () => {
    const caps = adapter.capabilities('whatsapp')
    expect(caps.types).toEqual(expect.arrayContaining(['text', 'image', 'document', 'template', 'interactive', 'location']))
    expect(caps.types).not.toContain('reaction')
    expect(caps.userIdRecipients).toBe(false)
    expect(adapter.capabilities('sms').types).toEqual([])
  })
})
