import type { Capabilities, Channel } from '../types.js'
import { WHATSAPP_MEDIA } from '../whatsapp-media.js'
import { WHATSAPP_TEXT_MAX } from './message.js'

/**
 * What the Sinch adapter can send on WhatsApp. Media types are DOCS-WA's list (sinch.md §5); the
 * image limit is Sinch's 5 MB, the others are WhatsApp's own limits (inference). Sinch accounts are
 * WhatsApp senders only, so the `sms` channel offers nothing.
 */


/** WhatsApp's document types plus the two Sinch lists on top (sinch.md §5). */
const DOCUMENT_MIME_TYPES = [...WHATSAPP_MEDIA.document.mimeTypes, 'text/csv', 'application/zip']

export const SINCH_WHATSAPP_CAPABILITIES: Capabilities = {
  types: ['text', 'image', 'audio', 'video', 'document', 'template', 'interactive', 'location'],
  media: {
    image: WHATSAPP_MEDIA.image,
    video: WHATSAPP_MEDIA.video,
    audio: WHATSAPP_MEDIA.audio,
    document: { mimeTypes: DOCUMENT_MIME_TYPES, maxBytes: WHATSAPP_MEDIA.document.maxBytes },
  },
  textMaxLength: WHATSAPP_TEXT_MAX,
  // Captions travel as a card description; WhatsApp cuts captions at 1024 characters.
  captionMaxLength: 1024,
  userIdRecipients: false,
}

const NOTHING: Capabilities = { types: [], media: {}, textMaxLength: 0, captionMaxLength: 0, userIdRecipients: false }

/**
 * @example
 * sinchCapabilities('whatsapp').textMaxLength // 4096
 */
export function sinchCapabilities(channel: Channel): Capabilities {
  return channel === 'whatsapp' ? SINCH_WHATSAPP_CAPABILITIES : NOTHING
}
