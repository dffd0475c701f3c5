import { SendError } from '../../domain/errors.js'
import type { Interactive, Media, MediaKind, Template, TemplateComponent, TemplateParameter } from '../../domain/content.js'
import type { OutboundMessage, Recipient } from '../types.js'
import type { SinchConfig } from './config.js'

/**
 * Translates wagate's provider-neutral content into the body of `messages:send` (sinch.md §1).
 * Everything here is pure; refusals are SendErrors thrown before any network call.
 */

export const WHATSAPP_TEXT_MAX = 4096
/** `correlation_id` is echoed on callbacks but limited to 128 characters (sinch.md §1). */
const CORRELATION_ID_MAX = 128

interface MediaProperties {
  url: string
  filename_override?: string
}

interface TextChoice {
  text_message: { text: string }
  postback_data: string
}

interface ListItem {
  choice: { title: string; description?: string; postback_data: string }
}

export type SinchAppMessage =
  | { text_message: { text: string } }
  | { media_message: MediaProperties }
  | { card_message: { description: string; media_message: MediaProperties } }
  | { template_message: { channel_template: { WHATSAPP: { template_id: string; language_code: string; parameters: Record<string, string> } } } }
  | { choice_message: { text_message: { text: string }; choices: TextChoice[] } }
  | {
      list_message: {
        title: string
        description?: string
        sections: Array<{ title?: string; items: ListItem[] }>
        message_properties: { menu: string; whatsapp_header?: string }
      }
    }
  | { location_message: { coordinates: { latitude: number; longitude: number }; title: string; label?: string } }

export interface SinchSendRequest {
  app_id: string
  recipient: { identified_by: { channel_identities: Array<{ channel: 'WHATSAPP'; identity: string }> } }
  message: SinchAppMessage
  channel_priority_order: ['WHATSAPP']
  correlation_id?: string
}

/**
 * The full `messages:send` body for one outbound message.
 *
 * @example
 * buildSendRequest(config, { id: 'msg_1', to: { phone: '+46712312312' }, content: { type: 'text', text: 'Hi' }, attempt: 1 })
 * // { app_id, recipient: { identified_by: { channel_identities: [{ channel: 'WHATSAPP', identity: '46712312312' }] } },
 * //   message: { text_message: { text: 'Hi' } }, channel_priority_order: ['WHATSAPP'], correlation_id: 'msg_1' }
 */
export function buildSendRequest(config: Pick<SinchConfig, 'app_id'>, message: OutboundMessage): SinchSendRequest {
  return {
    app_id: config.app_id,
    recipient: { identified_by: { channel_identities: [{ channel: 'WHATSAPP', identity: whatsappIdentity(message.to) }] } },
    message: buildAppMessage(message.content),
    channel_priority_order: ['WHATSAPP'],
    ...(message.id.length <= CORRELATION_ID_MAX ? { correlation_id: message.id } : {}),
  }
}

/** The WhatsApp channel identity: the known wa_id, else the number's digits. */
export function whatsappIdentity(to: Recipient): string {
  for (const candidate of [to.waId, to.phone]) {
    const digits = candidate?.replace(/^\+/, '')
    if (digits && /^\d{6,15}$/.test(digits)) return digits
  }
  if (to.userId && !to.waId && !to.phone) invalid('Sinch cannot send to a business-scoped user id; a phone number is needed')
  return invalid('recipient has no usable WhatsApp number')
}

export function buildAppMessage(content: OutboundMessage['content']): SinchAppMessage {
  switch (content.type) {
    case 'text':
      if (content.text.length > WHATSAPP_TEXT_MAX) {
        throw new SendError({ code: 'text_too_long', providerMessage: `WhatsApp text is limited to ${WHATSAPP_TEXT_MAX} characters` })
      }
      return { text_message: { text: content.text } }
    case 'template':
      return { template_message: { channel_template: { WHATSAPP: whatsappTemplate(content.template) } } }
    case 'interactive':
      return interactiveMessage(content.interactive)
    case 'location': {
      const { latitude, longitude, name, address } = content.location
      return { location_message: { coordinates: { latitude, longitude }, title: name ?? '', ...(address ? { label: address } : {}) } }
    }
    case 'reaction':
      return invalid('Sinch Conversation API has no reaction message')
    default:
      return mediaMessage(content.type, content.media)
  }
}

function mediaMessage(kind: MediaKind, media: Media): SinchAppMessage {
  if (!media.url) return invalid('Sinch needs a media URL; uploaded media ids are not supported')
  const properties: MediaProperties = { url: media.url, ...(media.filename ? { filename_override: media.filename } : {}) }
  // media_message has no caption field; a card with a description becomes a captioned WhatsApp media message.
  if (media.caption && (kind === 'image' || kind === 'video' || kind === 'document')) {
    return { card_message: { description: media.caption, media_message: properties } }
  }
  return { media_message: properties }
}

/**
 * A WhatsApp channel template. Parameter keys follow
 * `<component_type>[<component_index>]<component_sub_type>[<parameter_index>]<parameter_field>`,
 * e.g. `body[1]text`, `header[1]image.link`, `button[0]quick_reply[1]payload` (sinch.md §1).
 *
 * @example
 * whatsappTemplate({ name: 'text_template', language: 'en-US', components: [{ type: 'body', parameters: [{ type: 'text', text: 'A' }] }] })
 * // { template_id: 'text_template', language_code: 'en_US', parameters: { 'body[1]text': 'A' } }
 */
export function whatsappTemplate(template: Template): { template_id: string; language_code: string; parameters: Record<string, string> } {
  const parameters: Record<string, string> = {}
  for (const component of template.components ?? []) {
    component.parameters.forEach((parameter, i) => Object.assign(parameters, templateParameter(component, parameter, i + 1)))
  }
  // WhatsApp channel templates only accept the underscored form (`en_US`).
  return { template_id: template.name, language_code: template.language.replace(/-/g, '_'), parameters }
}

function templateParameter(component: TemplateComponent, parameter: TemplateParameter, index: number): Record<string, string> {
  if (component.type === 'button') {
    const prefix = `button[${component.index ?? 0}]${component.sub_type ?? 'quick_reply'}[${index}]`
    if (parameter.type === 'payload') return { [`${prefix}payload`]: parameter.payload }
    if (parameter.type === 'text') return { [`${prefix}text`]: parameter.text }
    return invalid('a template button parameter must be text or payload')
  }
  const prefix = `${component.type}[${index}]`
  if (parameter.type === 'text') return { [`${prefix}text`]: parameter.text }
  if (parameter.type === 'payload') return invalid(`a template ${component.type} parameter cannot be a payload`)
  if (component.type === 'body') return invalid('a template body parameter must be text')
  return {
    [`${prefix}${parameter.type}.link`]: parameter.url,
    ...(parameter.type === 'document' && parameter.filename ? { [`${prefix}document.filename`]: parameter.filename } : {}),
  }
}

function interactiveMessage(interactive: Interactive): SinchAppMessage {
  if (interactive.type === 'button') {
    // choice_message has no header or footer; keep their words rather than drop them.
    const text = [interactive.header?.text, interactive.body, interactive.footer].filter(Boolean).join('\n\n')
    return {
      choice_message: {
        text_message: { text },
        choices: interactive.buttons.map((b) => ({ text_message: { text: b.title }, postback_data: b.id })),
      },
    }
  }
  return {
    list_message: {
      title: interactive.body,
      ...(interactive.footer ? { description: interactive.footer } : {}),
      sections: interactive.sections.map((section) => ({
        ...(section.title ? { title: section.title } : {}),
        items: section.rows.map((row) => ({
          choice: { title: row.title, ...(row.description ? { description: row.description } : {}), postback_data: row.id },
        })),
      })),
      message_properties: { menu: interactive.button, ...(interactive.header ? { whatsapp_header: interactive.header.text } : {}) },
    },
  }
}

function invalid(message: string): never {
  throw new SendError({ code: 'invalid_request', providerMessage: message })
}
