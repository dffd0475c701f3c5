import type { MediaKind } from '../../domain/content.js'
import type { InboundMessage, InboundType, Party, WebhookItem } from '../types.js'
import { normalizeWebhookError, partyFromId, withContact } from './party.js'
import { flowReplySchema, inboundMessageSchema, interactiveReplySchema, type MetaContact, type MetaInboundMessage } from './webhook-schemas.js'

const MEDIA_TYPES = {
  image: 'image',
  audio: 'audio',
  // a voice note is an audio message with another key
  voice: 'audio',
  video: 'video',
  document: 'document',
  sticker: 'sticker',
} as const satisfies Record<string, MediaKind>
type MediaKey = keyof typeof MEDIA_TYPES

function isMediaKey(type: string): type is MediaKey {
  return Object.hasOwn(MEDIA_TYPES, type)
}

const OTHER_TYPES: Record<string, InboundType> = {
  text: 'text',
  location: 'location',
  button: 'button',
  interactive: 'interactive',
  reaction: 'reaction',
  contacts: 'contacts',
  order: 'order',
  system: 'system',
}

type Content = Pick<InboundMessage, 'type' | 'text' | 'media' | 'location' | 'button' | 'interactive' | 'reaction' | 'unsupported'>

function interactiveOf(raw: Record<string, unknown>): InboundMessage['interactive'] {
  const type = String(raw.type)
  const reply = interactiveReplySchema.safeParse(raw[type])
  if (reply.success) return { type, ...reply.data }
  const flow = flowReplySchema.safeParse(raw[type])
  if (flow.success) return { type, id: flow.data.name ?? type, title: flow.data.body ?? '' }
  return undefined
}

/** The type-specific part of a message, or a reason when the declared type has no payload. */
function contentOf(m: MetaInboundMessage): Content | string {
  const type = m.type
  if (isMediaKey(type)) {
    const media = m[type]
    if (!media) return `${type} message without ${type} object`
    return { type: MEDIA_TYPES[type], media, ...(media.caption !== undefined ? { text: media.caption } : {}) }
  }
  switch (m.type) {
    case 'text':
      return m.text ? { type: 'text', text: m.text.body } : 'text message without text.body'
    case 'location':
      if (!m.location) return 'location message without location'
      return { type: 'location', location: m.location }
    case 'button':
      return m.button ? { type: 'button', text: m.button.text, button: m.button } : 'button message without button'
    case 'interactive': {
      if (!m.interactive) return 'interactive message without interactive'
      const interactive = interactiveOf(m.interactive)
      return { type: 'interactive', ...(interactive ? { interactive, text: interactive.title } : {}) }
    }
    case 'reaction':
      if (!m.reaction) return 'reaction message without reaction'
      return { type: 'reaction', reaction: { message_id: m.reaction.message_id, emoji: m.reaction.emoji ?? '' } }
    case 'system':
      return { type: 'system', ...(m.system?.body !== undefined ? { text: m.system.body } : {}) }
    default: {
      // poll, request_welcome, future types: kept with their raw payload; the type WhatsApp could not
      // deliver (e.g. "pool") is named so the application can ask the contact to resend differently.
      const type = Object.hasOwn(OTHER_TYPES, m.type) ? (OTHER_TYPES[m.type] ?? 'unsupported') : 'unsupported'
      const original = m.unsupported?.type ?? (type === 'unsupported' && m.type !== 'unsupported' ? m.type : undefined)
      return { type, ...(type === 'unsupported' && original ? { unsupported: { type: original } } : {}) }
    }
  }
}

function senderOf(m: MetaInboundMessage, contacts: readonly MetaContact[]): Party | undefined {
  const fromId = partyFromId(m.from)
  if (m.from !== undefined && m.from !== '' && !fromId) return undefined
  const party: Party = { ...fromId }
  if (m.from_user_id) party.userId = m.from_user_id
  if (m.from_parent_user_id) party.parentUserId = m.from_parent_user_id
  if (!party.waId && !party.userId) return undefined
  return withContact(party, contacts)
}

function contextOf(m: MetaInboundMessage): InboundMessage['context'] {
  const c = m.context
  if (!c) return undefined
  const forwarded = c.forwarded === true || c.frequently_forwarded === true
  return {
    ...(c.id !== undefined ? { id: c.id } : {}),
    ...(c.from !== undefined ? { from: c.from } : {}),
    ...(forwarded ? { forwarded } : {}),
  }
}

/** A `system` message announcing a new number or user id becomes a contact event. */
function systemEvent(m: MetaInboundMessage, from: Party, address: string | undefined, raw: unknown): WebhookItem | undefined {
  const system = m.system
  const base = { contact: from, timestamp: m.timestamp, ...(address ? { address } : {}), raw }
  if (system?.type === 'user_changed_number') {
    const newWaId = partyFromId(system.wa_id)?.waId
    if (!newWaId) return { kind: 'rejected', reason: 'user_changed_number without a new wa_id' }
    return { kind: 'contact', event: { type: 'wa_id_changed', newWaId, ...base } }
  }
  if (system?.type === 'user_changed_user_id') {
    if (!system.user_id) return { kind: 'rejected', reason: 'user_changed_user_id without a new user_id' }
    return { kind: 'contact', event: { type: 'user_id_changed', newUserId: system.user_id, ...base } }
  }
  return undefined
}

/**
 * Reads one `value.messages[]` element into a message item (or a contact item for number
 * changes). Never throws; a malformed element becomes a `rejected` item.
 *
 * @example
 * parseInboundMessage(value.messages[0], contacts, '1122334455667') // { kind: 'message', message: { … } }
 */
export function parseInboundMessage(raw: unknown, contacts: readonly MetaContact[], address: string | undefined): WebhookItem {
  const parsed = inboundMessageSchema.safeParse(raw)
  if (!parsed.success) return { kind: 'rejected', reason: `malformed message: ${parsed.error.issues[0]?.message ?? 'invalid'}` }
  const m = parsed.data
  const from = senderOf(m, contacts)
  if (!from) return { kind: 'rejected', reason: `message ${m.id} has no readable sender` }
  if (m.type === 'system') {
    const event = systemEvent(m, from, address, raw)
    if (event) return event
  }
  const content = contentOf(m)
  if (typeof content === 'string') return { kind: 'rejected', reason: content }
  const context = contextOf(m)
  const errors = m.errors?.map(normalizeWebhookError)
  return {
    kind: 'message',
    message: {
      providerMessageId: m.id,
      from,
      timestamp: m.timestamp,
      ...content,
      ...(context ? { context } : {}),
      ...(errors && errors.length > 0 ? { errors } : {}),
      ...(address ? { address } : {}),
      raw,
    },
  }
}
