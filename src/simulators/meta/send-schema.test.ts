import { describe, expect, it } from 'vitest'
import { readFixtureJson } from '../../../test/harness/fixtures.js'
import { checkSendBody } from './send-schema.js'

const base = { messaging_product: 'whatsapp', recipient_type: 'individual', to: '16505551234' }
const button = (id: string, title = `B${id}`) => ({ type: 'reply', reply: { id, title } })
const buttons = (n: number) => ({
  ...base,
  type: 'interactive',
  interactive: { type: 'button', body: { text: 'pick' }, action: { buttons: Array.from({ length: n }, (_, i) => button(String(i))) } },
})
const list = (rows: number) => ({
  ...base,
  type: 'interactive',
  interactive: {
    type: 'list',
    body: { text: 'pick' },
    action: { button: 'Menu', sections: [{ rows: Array.from({ length: rows }, (_, i) => ({ id: String(i), title: `Row ${i}` })) }] },
  },
})

describe('checkSendBody accepts every documented request fixture', () => {
  const files = [
    'send-text-request.json',
    'send-text-to-bsuid-request.json',
    'send-image-by-id-request.json',
    'send-document-by-link-request.json',
    'send-template-request.json',
    'send-interactive-buttons-request.json',
    'send-interactive-list-request.json',
    'send-reply-with-context-request.json',
    'send-reaction-request.json',
    'send-location-request.json',
  ]
  for (const file of files) {
    it(file, () => {
      expect(checkSendBody(readFixtureJson('meta', file)).kind).toBe('send')
    })
  }
  it('sends to a BSUID through recipient', () => {
    expect(checkSendBody(readFixtureJson('meta', 'send-text-to-bsuid-request.json'))).toMatchObject({
      recipient: 'US.1234',
      recipientKind: 'bsuid',
    })
  })
})

describe('checkSendBody refuses what Meta refuses', () => {
  const refused: Array<[string, unknown, RegExp]> = [
    ['missing text.body', { ...base, type: 'text', text: {} }, /text\.body/],
    ['text over 4096', { ...base, type: 'text', text: { body: 'x'.repeat(4097) } }, /text\.body/],
    ['type object absent', { ...base, type: 'image' }, /image/],
    ['wrong messaging_product', { ...base, messaging_product: 'sms', type: 'text', text: { body: 'x' } }, /messaging_product/],
    ['unknown type', { ...base, type: 'poll', poll: {} }, /type/],
    ['neither to nor recipient', { messaging_product: 'whatsapp', type: 'text', text: { body: 'x' } }, /to/],
    ['to that is not a number', { ...base, to: 'bob', type: 'text', text: { body: 'x' } }, /to/],
    ['media with both id and link', { ...base, type: 'image', image: { id: '1', link: 'https://a.b/c.jpg' } }, /image/],
    ['media with neither id nor link', { ...base, type: 'video', video: { caption: 'x' } }, /video/],
    ['caption on audio', { ...base, type: 'audio', audio: { id: '1', caption: 'x' } }, /audio/],
    ['caption on sticker', { ...base, type: 'sticker', sticker: { id: '1', caption: 'x' } }, /sticker/],
    ['template without language code', { ...base, type: 'template', template: { name: 't', language: {} } }, /template\.language/],
    ['template without name', { ...base, type: 'template', template: { language: { code: 'en' } } }, /template\.name/],
    ['4 reply buttons', buttons(4), /interactive\.action\.buttons/],
    ['button title over 20', { ...buttons(1), interactive: { ...buttons(1).interactive, action: { buttons: [button('0', 'x'.repeat(21))] } } }, /title/],
    ['list with 11 rows', list(11), /interactive\.action\.sections/],
    ['location without latitude', { ...base, type: 'location', location: { longitude: '1.0' } }, /location\.latitude/],
    ['latitude out of range', { ...base, type: 'location', location: { latitude: 91, longitude: 0 } }, /location\.latitude/],
    ['reaction without message_id', { ...base, type: 'reaction', reaction: { emoji: '👍' } }, /reaction\.message_id/],
    ['biz_opaque_callback_data over 512 bytes', { ...base, type: 'text', text: { body: 'x' }, biz_opaque_callback_data: 'é'.repeat(257) }, /biz_opaque/],
    ['not an object', 'text', /JSON object/],
  ]
  for (const [name, body, details] of refused) {
    it(name, () => {
      const check = checkSendBody(body)
      expect(check.kind).toBe('invalid')
      if (check.kind === 'invalid') expect(check.details).toMatch(details)
    })
  }

  it('accepts the limits themselves: 3 buttons, 10 rows, 4096 characters', () => {
    expect(checkSendBody(buttons(3)).kind).toBe('send')
    expect(checkSendBody(list(10)).kind).toBe('send')
    expect(checkSendBody({ ...base, type: 'text', text: { body: 'x'.repeat(4096) } }).kind).toBe('send')
  })
})

describe('checkSendBody envelope rules', () => {
  it('lets to win over recipient', () => {
    expect(checkSendBody({ ...base, recipient: 'US.1234', type: 'text', text: { body: 'x' } })).toMatchObject({
      recipient: '16505551234',
      recipientKind: 'phone',
    })
  })
  it('defaults type to text', () => {
    expect(checkSendBody({ ...base, text: { body: 'x' } })).toMatchObject({ kind: 'send', type: 'text' })
  })
  it('reads biz_opaque_callback_data as the client reference', () => {
    expect(checkSendBody({ ...base, text: { body: 'x' }, biz_opaque_callback_data: 'msg-1' })).toMatchObject({ clientRef: 'msg-1' })
  })
  it('recognises mark-as-read, with or without a typing indicator', () => {
    expect(checkSendBody({ messaging_product: 'whatsapp', status: 'read', message_id: 'wamid.X' })).toEqual({ kind: 'read', messageId: 'wamid.X' })
    expect(
      checkSendBody({ messaging_product: 'whatsapp', status: 'read', message_id: 'wamid.X', typing_indicator: { type: 'text' } }).kind,
    ).toBe('read')
    expect(checkSendBody({ messaging_product: 'whatsapp', status: 'read' }).kind).toBe('invalid')
  })
})
