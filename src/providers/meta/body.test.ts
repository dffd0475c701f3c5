import { describe, expect, it } from 'vitest'
import type { OutboundContent } from '../../domain/content.js'
import { SendError } from '../../domain/errors.js'
import type { OutboundMessage } from '../types.js'
import { buildMetaBody } from './body.js'

const msg = (content: OutboundContent, to: OutboundMessage['to'] = { phone: '+15550001111' }): OutboundMessage => ({
  id: 'msg_abc',
  to,
  content,
  attempt: 1,
})

describe('buildMetaBody: recipient', () => {
  it('prefers the known wa_id over the phone (Brazil: the wa_id lacks the ninth digit)', () => {
    const body = buildMetaBody(msg({ type: 'text', text: 'hi' }, { phone: '+5511987654321', waId: '551187654321' }))
    expect(body.to).toBe('551187654321')
    expect(body).not.toHaveProperty('recipient')
  })

  it('sends the phone as digits and never the user id when a phone is known', () => {
    const body = buildMetaBody(msg({ type: 'text', text: 'hi' }, { phone: '+16505551234', userId: 'US.1234' }))
    expect(body.to).toBe('16505551234')
    expect(body).not.toHaveProperty('recipient')
  })

  it('puts a business-scoped user id in `recipient`, with no `to`', () => {
    const body = buildMetaBody(msg({ type: 'text', text: 'hi' }, { userId: 'US.13491208655302741918' }))
    expect(body.recipient).toBe('US.13491208655302741918')
    expect(body).not.toHaveProperty('to')
  })

  it('throws invalid_request when no recipient field is set', () => {
    expect(() => buildMetaBody(msg({ type: 'text', text: 'hi' }, {}))).toThrow(SendError)
  })

  it('always carries the wagate id as biz_opaque_callback_data, and replyTo as context', () => {
    const body = buildMetaBody({ ...msg({ type: 'text', text: 'hi' }), replyTo: 'wamid.REPLIED' })
    expect(body.biz_opaque_callback_data).toBe('msg_abc')
    expect(body.context).toEqual({ message_id: 'wamid.REPLIED' })
    expect(buildMetaBody(msg({ type: 'text', text: 'hi' }))).not.toHaveProperty('context')
  })
})

describe('buildMetaBody: content', () => {
  it('text: preview_url defaults to false and is kept when asked', () => {
    expect(buildMetaBody(msg({ type: 'text', text: 'a' })).text).toEqual({ body: 'a', preview_url: false })
    expect(buildMetaBody(msg({ type: 'text', text: 'https://x.y', preview_url: true })).text).toEqual({ body: 'https://x.y', preview_url: true })
  })

  it('audio and sticker drop the caption; only documents carry a filename', () => {
    const media = { url: 'https://cdn.example/f.ogg', caption: 'cap', filename: 'f.ogg' }
    expect(buildMetaBody(msg({ type: 'audio', media })).audio).toEqual({ link: 'https://cdn.example/f.ogg' })
    expect(buildMetaBody(msg({ type: 'sticker', media: { id: '99', caption: 'cap' } })).sticker).toEqual({ id: '99' })
    expect(buildMetaBody(msg({ type: 'video', media })).video).toEqual({ link: 'https://cdn.example/f.ogg', caption: 'cap' })
    expect(buildMetaBody(msg({ type: 'document', media })).document).toEqual({ link: 'https://cdn.example/f.ogg', caption: 'cap', filename: 'f.ogg' })
  })

  it('template without components omits `components`', () => {
    const body = buildMetaBody(msg({ type: 'template', template: { name: 'hello_world', language: 'en_US' } }))
    expect(body.template).toEqual({ name: 'hello_world', language: { policy: 'deterministic', code: 'en_US' } })
    const empty = buildMetaBody(msg({ type: 'template', template: { name: 'hello_world', language: 'en_US', components: [] } }))
    expect(empty.template).not.toHaveProperty('components')
  })

  it('template media parameters name their type and keep a filename', () => {
    const body = buildMetaBody(
      msg({
        type: 'template',
        template: {
          name: 'invoice',
          language: 'pt_BR',
          components: [{ type: 'header', parameters: [{ type: 'document', url: 'https://cdn.example/i.pdf', filename: 'invoice.pdf' }] }],
        },
      }),
    )
    expect(body.template).toMatchObject({
      components: [{ type: 'header', parameters: [{ type: 'document', document: { link: 'https://cdn.example/i.pdf', filename: 'invoice.pdf' } }] }],
    })
  })

  it('interactive buttons carry header and footer when given', () => {
    const body = buildMetaBody(
      msg({
        type: 'interactive',
        interactive: { type: 'button', header: { type: 'text', text: 'Head' }, body: 'Pick', footer: 'Foot', buttons: [{ id: 'y', title: 'Yes' }, { id: 'n', title: 'No' }] },
      }),
    )
    expect(body.interactive).toEqual({
      type: 'button',
      header: { type: 'text', text: 'Head' },
      body: { text: 'Pick' },
      footer: { text: 'Foot' },
      action: { buttons: [{ type: 'reply', reply: { id: 'y', title: 'Yes' } }, { type: 'reply', reply: { id: 'n', title: 'No' } }] },
    })
  })

  it('list sections keep their title', () => {
    const body = buildMetaBody(
      msg({ type: 'interactive', interactive: { type: 'list', body: 'Menu', button: 'Open', sections: [{ title: 'Drinks', rows: [{ id: 'c', title: 'Coffee' }] }] } }),
    )
    expect(body.interactive).toMatchObject({ action: { button: 'Open', sections: [{ title: 'Drinks', rows: [{ id: 'c', title: 'Coffee' }] }] } })
  })

  it('location sends coordinates as strings and leaves out absent name/address', () => {
    expect(buildMetaBody(msg({ type: 'location', location: { latitude: -23.5, longitude: 0 } })).location).toEqual({ latitude: '-23.5', longitude: '0' })
  })

  it('reaction with an empty emoji removes the reaction', () => {
    expect(buildMetaBody(msg({ type: 'reaction', reaction: { message_id: 'wamid.X', emoji: '' } })).reaction).toEqual({ message_id: 'wamid.X', emoji: '' })
  })
})
