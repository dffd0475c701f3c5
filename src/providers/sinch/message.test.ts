import { describe, expect, it } from 'vitest'
import { SendError } from '../../domain/errors.js'
import { buildAppMessage, buildSendRequest, whatsappIdentity, whatsappTemplate } from './message.js'

describe('sinch WhatsApp template parameters (sinch.md §1 key format)', () => {
  it('header media, body text and button parameters get their documented keys', () => {
    expect(
      whatsappTemplate({
        name: 'order_update',
        language: 'pt-BR',
        components: [
          { type: 'header', parameters: [{ type: 'document', url: 'https://cdn.example/i.pdf', filename: 'i.pdf' }] },
          { type: 'body', parameters: [{ type: 'text', text: 'Ana' }, { type: 'text', text: '42' }] },
          { type: 'button', sub_type: 'quick_reply', index: 0, parameters: [{ type: 'payload', payload: '' }] },
          { type: 'button', sub_type: 'url', index: 1, parameters: [{ type: 'text', text: 'abc' }] },
        ],
      }),
    ).toEqual({
      template_id: 'order_update',
      language_code: 'pt_BR',
      parameters: {
        'header[1]document.link': 'https://cdn.example/i.pdf',
        'header[1]document.filename': 'i.pdf',
        'body[1]text': 'Ana',
        'body[2]text': '42',
        'button[0]quick_reply[1]payload': '',
        'button[1]url[1]text': 'abc',
      },
    })
  })

  it('header text and image keys', () => {
    expect(
      whatsappTemplate({ name: 't', language: 'en', components: [{ type: 'header', parameters: [{ type: 'image', url: 'https://cdn.example/a.png' }] }] }).parameters,
    ).toEqual({ 'header[1]image.link': 'https://cdn.example/a.png' })
    expect(whatsappTemplate({ name: 't', language: 'en', components: [{ type: 'header', parameters: [{ type: 'text', text: 'Hi' }] }] }).parameters).toEqual({
      'header[1]text': 'Hi',
    })
  })

  it('a media parameter in the body is refused', () => {
    expect(() =>
      whatsappTemplate({ name: 't', language: 'en', components: [{ type: 'body', parameters: [{ type: 'image', url: 'https://cdn.example/a.png' }] }] }),
    ).toThrow(SendError)
  })
})

describe('sinch app messages', () => {
  it('a list → list_message with sections, menu button and header', () => {
    expect(
      buildAppMessage({
        type: 'interactive',
        interactive: {
          type: 'list',
          header: { type: 'text', text: 'Menu' },
          body: 'Choose a flavour',
          footer: 'Best in town',
          button: 'Flavours',
          sections: [{ title: 'Fruit', rows: [{ id: 'straw', title: 'Strawberry', description: 'red' }] }],
        },
      }),
    ).toEqual({
      list_message: {
        title: 'Choose a flavour',
        description: 'Best in town',
        sections: [{ title: 'Fruit', items: [{ choice: { title: 'Strawberry', description: 'red', postback_data: 'straw' } }] }],
        message_properties: { menu: 'Flavours', whatsapp_header: 'Menu' },
      },
    })
  })

  it('text longer than 4096 characters → text_too_long', () => {
    expect(() => buildAppMessage({ type: 'text', text: 'x'.repeat(4097) })).toThrow(expect.objectContaining({ code: 'text_too_long' }))
    expect(buildAppMessage({ type: 'text', text: 'x'.repeat(4096) })).toEqual({ text_message: { text: 'x'.repeat(4096) } })
  })

  it('media by id only (no URL) is refused', () => {
    expect(() => buildAppMessage({ type: 'image', media: { id: 'meta-media-id' } })).toThrow(expect.objectContaining({ code: 'invalid_request' }))
  })

  it('audio captions have nowhere to go: plain media_message', () => {
    expect(buildAppMessage({ type: 'audio', media: { url: 'https://cdn.example/a.ogg', caption: 'c' } })).toEqual({ media_message: { url: 'https://cdn.example/a.ogg' } })
  })
})

describe('sinch recipient', () => {
  it('prefers the known wa_id over the phone (Brazil ninth digit)', () => {
    expect(whatsappIdentity({ phone: '+5535987654321', waId: '553587654321' })).toBe('553587654321')
    expect(whatsappIdentity({ phone: '+5535987654321' })).toBe('5535987654321')
  })

  it('a business-scoped user id alone cannot be sent to', () => {
    expect(() => whatsappIdentity({ userId: 'US.1234' })).toThrow(expect.objectContaining({ code: 'invalid_request' }))
  })

  it('correlation_id carries wagate id only when it fits in 128 characters', () => {
    const base = { to: { phone: '+46712312312' }, content: { type: 'text' as const, text: 'a' }, attempt: 1 }
    expect(buildSendRequest({ app_id: 'a' }, { ...base, id: 'msg_1' }).correlation_id).toBe('msg_1')
    expect(buildSendRequest({ app_id: 'a' }, { ...base, id: 'm'.repeat(129) }).correlation_id).toBe(undefined)
  })
})
