import type { Interactive, Location, Media, MediaKind, Template, TemplateComponent } from '../../domain/content.js'
import { SendError } from '../../domain/errors.js'
import type { OutboundMessage } from '../types.js'

/**
 * Translates wagate's neutral content into Gupshup's v1 form fields (gupshup.md §1). Session
 * messages go to `/wa/api/v1/msg` with a `message` JSON string; templates go to
 * `/wa/api/v1/template/msg` with a `template` JSON string.
 */

export interface GupshupRequest {
  /** Path below `base_url`. */
  path: '/wa/api/v1/msg' | '/wa/api/v1/template/msg'
  /** Form fields besides channel / source / destination / src.name, in order. */
  fields: Array<[string, string]>
}

type JsonObject = Record<string, unknown>

/** Gupshup calls documents `file`; the other kinds keep their names. */
const MEDIA_TYPE: Record<MediaKind, string> = {
  image: 'image',
  video: 'video',
  audio: 'audio',
  document: 'file',
  sticker: 'sticker',
}

function invalid(reason: string): SendError {
  return new SendError({ code: 'invalid_request', providerMessage: reason })
}

function mediaMessage(kind: MediaKind, media: Media): JsonObject {
  const type = MEDIA_TYPE[kind]
  // A media id (uploaded to Gupshup beforehand) replaces the URL.
  const source: JsonObject = media.id
    ? { id: media.id }
    : kind === 'image'
      ? { originalUrl: media.url, previewUrl: media.url }
      : { url: media.url }
  return {
    type,
    ...source,
    // WhatsApp shows no caption on audio or stickers.
    ...(media.caption !== undefined && kind !== 'audio' && kind !== 'sticker' ? { caption: media.caption } : {}),
    ...(kind === 'document' && media.filename !== undefined ? { filename: media.filename } : {}),
  }
}

function locationMessage(location: Location): JsonObject {
  // The documented examples carry the coordinates as strings.
  return {
    type: 'location',
    latitude: String(location.latitude),
    longitude: String(location.longitude),
    ...(location.name !== undefined ? { name: location.name } : {}),
    ...(location.address !== undefined ? { address: location.address } : {}),
  }
}

/**
 * Interactive messages. A reply to either kind comes back with the option's `postbackText`, so the
 * caller's button / row id travels there; `msgid` carries wagate's message id.
 */
function interactiveMessage(interactive: Interactive, messageId: string): JsonObject {
  if (interactive.type === 'button') {
    return {
      type: 'quick_reply',
      msgid: messageId,
      content: {
        type: 'text',
        ...(interactive.header ? { header: interactive.header.text } : {}),
        text: interactive.body,
        ...(interactive.footer !== undefined ? { caption: interactive.footer } : {}),
      },
      options: interactive.buttons.map((b) => ({ title: b.title, postbackText: b.id })),
    }
  }
  return {
    type: 'list',
    // Gupshup requires the key; an empty title shows no header. The documented list has no footer.
    title: interactive.header?.text ?? '',
    body: interactive.body,
    msgid: messageId,
    globalButtons: [{ type: 'text', title: interactive.button }],
    items: interactive.sections.map((section) => ({
      ...(section.title !== undefined ? { title: section.title } : {}),
      options: section.rows.map((row) => ({
        type: 'text',
        title: row.title,
        description: row.description ?? '',
        postbackText: row.id,
      })),
    })),
  }
}

function componentsOf(template: Template, type: TemplateComponent['type']): TemplateComponent[] {
  return (template.components ?? []).filter((c) => c.type === type)
}

/**
 * Template fields. Gupshup wants every text variable in one ordered `params` list (header, body,
 * then URL-button suffixes), a media header as a `message` JSON, and quick-reply payloads as
 * `postbackTexts`. The template's `name` is the Gupshup template id.
 */
function templateFields(template: Template): Array<[string, string]> {
  const params: string[] = []
  let headerMedia: JsonObject | undefined
  for (const component of [...componentsOf(template, 'header'), ...componentsOf(template, 'body')]) {
    for (const p of component.parameters) {
      if (p.type === 'text') params.push(p.text)
      else if (p.type === 'payload') throw invalid('payload parameters belong to quick-reply buttons')
      else headerMedia = { type: p.type, [p.type]: { link: p.url, ...(p.filename !== undefined ? { filename: p.filename } : {}) } }
    }
  }
  const postbackTexts: Array<{ index: number; text: string }> = []
  for (const button of componentsOf(template, 'button')) {
    for (const p of button.parameters) {
      if (button.sub_type === 'quick_reply' && p.type === 'payload') postbackTexts.push({ index: button.index ?? 0, text: p.payload })
      else if (p.type === 'text') params.push(p.text)
      else throw invalid(`unsupported ${button.sub_type ?? ''} button parameter ${p.type}`)
    }
  }
  const fields: Array<[string, string]> = [['template', JSON.stringify({ id: template.name, params })]]
  if (headerMedia) fields.push(['message', JSON.stringify(headerMedia)])
  if (postbackTexts.length > 0) fields.push(['postbackTexts', JSON.stringify(postbackTexts)])
  return fields
}

function sessionMessage(message: OutboundMessage): JsonObject {
  const content = message.content
  switch (content.type) {
    case 'text':
      return { type: 'text', text: content.text, ...(content.preview_url !== undefined ? { previewUrl: content.preview_url } : {}) }
    case 'image':
    case 'video':
    case 'audio':
    case 'document':
    case 'sticker':
      return mediaMessage(content.type, content.media)
    case 'location':
      return locationMessage(content.location)
    case 'interactive':
      return interactiveMessage(content.interactive, message.id)
    case 'reaction':
      throw invalid('Gupshup v1 API cannot send reactions')
    case 'template':
      throw invalid('templates use the template endpoint')
  }
}

/**
 * The endpoint and the type-specific form fields for one outbound message.
 *
 * @example
 * buildRequest({ id: 'msg_1', to: { phone: '+919876543210' }, content: { type: 'text', text: 'Hi' }, attempt: 1 })
 * // { path: '/wa/api/v1/msg', fields: [['message', '{"type":"text","text":"Hi"}']] }
 */
export function buildRequest(message: OutboundMessage): GupshupRequest {
  if (message.content.type === 'template') {
    return { path: '/wa/api/v1/template/msg', fields: templateFields(message.content.template) }
  }
  const body = sessionMessage(message)
  // A quoted reply names the original's id in `context.msgId`.
  if (message.replyTo !== undefined) body.context = { msgId: message.replyTo }
  return { path: '/wa/api/v1/msg', fields: [['message', JSON.stringify(body)]] }
}

/**
 * The `destination` field: the known WhatsApp id first (DESIGN §7), else the phone's digits.
 *
 * @example
 * destinationOf({ phone: '+5511987654321', waId: '551187654321' }) // '551187654321'
 */
export function destinationOf(to: OutboundMessage['to']): string {
  if (to.waId) return to.waId
  if (to.phone) return to.phone.replace(/[^0-9]/g, '')
  throw invalid('Gupshup needs a phone number or WhatsApp id; business-scoped user ids are not supported')
}
