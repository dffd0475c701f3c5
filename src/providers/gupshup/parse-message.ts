import type { MediaKind } from '../../domain/content.js'
import type { InboundMessage, WebhookItem } from '../types.js'
import { firstParty } from './address.js'
import {
  InteractiveReplySchema,
  LocationSchema,
  MediaSchema,
  MessagePayloadSchema,
  TemplateButtonSchema,
  TextSchema,
  type Envelope,
  type MessagePayload,
} from './schemas.js'
import { table } from './table.js'

/** Gupshup's inbound media types and wagate's names for them. */
const MEDIA_KINDS: Readonly<Record<string, MediaKind>> = table({
  image: 'image',
  video: 'video',
  audio: 'audio',
  file: 'document',
  sticker: 'sticker',
})

/** The type-specific part of an inbound message, or the reason it cannot be read. */
type Body = Partial<Pick<InboundMessage, 'type' | 'text' | 'media' | 'location' | 'button' | 'interactive'>> | string

function bodyOf(message: MessagePayload): Body {
  const inner = message.payload
  const kind = MEDIA_KINDS[message.type]
  if (kind) {
    const media = MediaSchema.safeParse(inner)
    if (!media.success) return `${message.type} without a url`
    const mime = media.data.contentType ?? media.data['content-type']
    return {
      type: kind,
      media: {
        url: media.data.url,
        ...(mime !== undefined ? { mime_type: mime } : {}),
        ...(media.data.caption !== undefined ? { caption: media.data.caption } : {}),
        ...(media.data.name !== undefined ? { filename: media.data.name } : {}),
      },
    }
  }
  switch (message.type) {
    case 'text': {
      const text = TextSchema.safeParse(inner)
      return text.success ? { type: 'text', text: text.data.text } : 'text without text'
    }
    case 'location': {
      const loc = LocationSchema.safeParse(inner)
      if (!loc.success) return 'location without coordinates'
      const { latitude, longitude, name, address, url } = loc.data
      return {
        type: 'location',
        location: {
          latitude,
          longitude,
          ...(name !== undefined ? { name } : {}),
          ...(address !== undefined ? { address } : {}),
          ...(url !== undefined ? { url } : {}),
        },
      }
    }
    case 'quick_reply': {
      // Two shapes share this type: a template button tap ({text, type:"button"}) and, on one copy
      // of the docs, the reply to a quick-reply session message ({title, id, reply}).
      const button = TemplateButtonSchema.safeParse(inner)
      if (button.success && !('title' in inner)) {
        const { text, postbackText } = button.data
        return { type: 'button', button: { text, ...(postbackText !== undefined ? { payload: postbackText } : {}) } }
      }
      return interactiveBody('button_reply', inner)
    }
    case 'button_reply':
      return interactiveBody('button_reply', inner)
    case 'list_reply':
      return interactiveBody('list_reply', inner)
    case 'contact':
      return { type: 'contacts' }
    default:
      return { type: 'unsupported' }
  }
}

/**
 * The chosen option's identity is its `postbackText` (where wagate puts the caller's button / row
 * id); Gupshup's `id` is the message-level `msgid`, used only when no postback text came back.
 */
function interactiveBody(type: 'button_reply' | 'list_reply', inner: Record<string, unknown>): Body {
  const reply = InteractiveReplySchema.safeParse(inner)
  if (!reply.success) return `${type} without a title`
  const { title, id, postbackText, description } = reply.data
  const chosen = postbackText ?? id
  if (chosen === undefined) return `${type} without an id`
  return {
    type: 'interactive',
    interactive: { type, id: chosen, title, ...(description !== undefined ? { description } : {}) },
  }
}

/**
 * A `message` callback (user → business) as one `message` item, or a `rejected` item.
 *
 * @example
 * parseMessage(envelope) // [{ kind: 'message', message: { providerMessageId: 'ABEG…', type: 'text', text: 'Hi', … } }]
 */
export function parseMessage(envelope: Envelope, raw: unknown): WebhookItem[] {
  const parsed = MessagePayloadSchema.safeParse(envelope.payload)
  if (!parsed.success) return [{ kind: 'rejected', reason: 'message callback without id or type' }]
  const message = parsed.data
  const body = bodyOf(message)
  if (typeof body === 'string') return [{ kind: 'rejected', reason: body }]

  const sender = message.sender
  const party = firstParty(message.source, sender?.phone)
  const userId = sender?.userId ?? message.userId
  const context = message.context
  // Our own outbound id is Gupshup's id (`gsId`); the WhatsApp id is the fallback.
  const contextId = context?.gsId ?? context?.id
  const inbound: InboundMessage = {
    providerMessageId: message.id,
    from: {
      ...party,
      ...(userId ? { userId } : {}),
      ...(sender?.name ? { name: sender.name } : {}),
    },
    timestamp: envelope.timestamp,
    type: body.type ?? 'unsupported',
    ...body,
    ...(context && (contextId !== undefined || context.forwarded !== undefined)
      ? {
          context: {
            ...(contextId !== undefined ? { id: contextId } : {}),
            ...(context.forwarded !== undefined ? { forwarded: context.forwarded } : {}),
          },
        }
      : {}),
    raw,
  }
  return [{ kind: 'message', message: inbound }]
}
