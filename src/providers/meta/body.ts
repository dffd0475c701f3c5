import type { Interactive, Media, MediaKind, TemplateComponent, TemplateParameter } from '../../domain/content.js'
import { SendError } from '../../domain/errors.js'
import type { OutboundMessage, Recipient } from '../types.js'

/** The JSON body of `POST /<version>/<phone_number_id>/messages` (providers/meta.md §1.2). */
export interface MetaMessageBody {
  messaging_product: 'whatsapp'
  recipient_type: 'individual'
  to?: string
  recipient?: string
  context?: { message_id: string }
  /** Echoed back in every status webhook of this message. */
  biz_opaque_callback_data: string
  type: string
  [payload: string]: unknown
}

type RecipientField = { to: string } | { recipient: string }

/**
 * Meta takes a phone or wa_id in `to` and a business-scoped user id in `recipient`; when both are
 * present `to` wins, so we send only one.
 */
function recipientField(to: Recipient): RecipientField {
  if (to.waId) return { to: to.waId }
  if (to.phone) return { to: to.phone.replace(/\D/g, '') }
  if (to.userId) return { recipient: to.userId }
  throw new SendError({ code: 'invalid_request', providerMessage: 'recipient has no phone, waId or userId' })
}

function mediaObject(kind: MediaKind, media: Media): Record<string, string> {
  const out: Record<string, string> = media.id ? { id: media.id } : { link: media.url ?? '' }
  // Meta rejects captions on audio and stickers
  if (media.caption !== undefined && kind !== 'audio' && kind !== 'sticker') out.caption = media.caption
  if (media.filename !== undefined && kind === 'document') out.filename = media.filename
  return out
}

function templateParameter(p: TemplateParameter): Record<string, unknown> {
  switch (p.type) {
    case 'text':
      return { type: 'text', text: p.text }
    case 'payload':
      return { type: 'payload', payload: p.payload }
    default:
      return { type: p.type, [p.type]: { link: p.url, ...(p.filename !== undefined ? { filename: p.filename } : {}) } }
  }
}

function templateComponent(c: TemplateComponent): Record<string, unknown> {
  return {
    type: c.type,
    ...(c.sub_type !== undefined ? { sub_type: c.sub_type } : {}),
    // Meta wants the button index as a string
    ...(c.index !== undefined ? { index: String(c.index) } : {}),
    parameters: c.parameters.map(templateParameter),
  }
}

function interactiveObject(i: Interactive): Record<string, unknown> {
  const frame = {
    type: i.type,
    ...(i.header ? { header: { type: 'text', text: i.header.text } } : {}),
    body: { text: i.body },
    ...(i.footer !== undefined ? { footer: { text: i.footer } } : {}),
  }
  if (i.type === 'button') {
    return { ...frame, action: { buttons: i.buttons.map((b) => ({ type: 'reply', reply: { id: b.id, title: b.title } })) } }
  }
  return {
    ...frame,
    action: {
      button: i.button,
      sections: i.sections.map((s) => ({
        ...(s.title !== undefined ? { title: s.title } : {}),
        rows: s.rows.map((r) => ({ id: r.id, title: r.title, ...(r.description !== undefined ? { description: r.description } : {}) })),
      })),
    },
  }
}

function payloadOf(message: OutboundMessage): Record<string, unknown> {
  const content = message.content
  switch (content.type) {
    case 'text':
      return { text: { body: content.text, preview_url: content.preview_url ?? false } }
    case 'template': {
      const { name, language, components } = content.template
      const withComponents = components && components.length > 0 ? { components: components.map(templateComponent) } : {}
      return { template: { name, language: { policy: 'deterministic', code: language }, ...withComponents } }
    }
    case 'interactive':
      return { interactive: interactiveObject(content.interactive) }
    case 'location': {
      const { latitude, longitude, name, address } = content.location
      // Meta's examples carry coordinates as strings
      const place = { ...(name !== undefined ? { name } : {}), ...(address !== undefined ? { address } : {}) }
      return { location: { latitude: String(latitude), longitude: String(longitude), ...place } }
    }
    case 'reaction':
      return { reaction: { message_id: content.reaction.message_id, emoji: content.reaction.emoji } }
    default:
      return { [content.type]: mediaObject(content.type, content.media) }
  }
}

/**
 * Translates one outbound message to Meta's wire body. Throws `SendError` `invalid_request` when
 * the message names no recipient at all.
 *
 * @example
 * buildMetaBody({ id: 'msg_1', to: { phone: '+16505551234' }, content: { type: 'text', text: 'hi' }, attempt: 1 })
 * // { messaging_product: 'whatsapp', recipient_type: 'individual', to: '16505551234', type: 'text',
 * //   text: { body: 'hi', preview_url: false }, biz_opaque_callback_data: 'msg_1' }
 */
export function buildMetaBody(message: OutboundMessage): MetaMessageBody {
  return {
    messaging_product: 'whatsapp',
    recipient_type: 'individual',
    ...recipientField(message.to),
    ...(message.replyTo ? { context: { message_id: message.replyTo } } : {}),
    type: message.content.type,
    ...payloadOf(message),
    biz_opaque_callback_data: message.id,
  }
}
