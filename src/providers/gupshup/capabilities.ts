import type { Capabilities, Channel } from '../types.js'
import { WHATSAPP_MEDIA } from '../whatsapp-media.js'

/**
 * What the Gupshup v1 API sends (gupshup.md §1): session text, media, location, quick-reply and
 * list messages, and templates. No reactions, no business-scoped user ids. Media limits are
 * WhatsApp's own, which Gupshup passes through.
 */
const WHATSAPP: Capabilities = {
  types: ['text', 'image', 'audio', 'video', 'document', 'sticker', 'template', 'interactive', 'location'],
  media: WHATSAPP_MEDIA,
  textMaxLength: 4096,
  captionMaxLength: 1024,
  userIdRecipients: false,
}

/** Gupshup's WhatsApp API has no SMS channel: an SMS account on it can send nothing. */
const NONE: Capabilities = { types: [], media: {}, textMaxLength: 0, captionMaxLength: 0, userIdRecipients: false }

/**
 * @example
 * gupshupCapabilities('whatsapp').types.includes('reaction') // false
 */
export function gupshupCapabilities(channel: Channel): Capabilities {
  return channel === 'whatsapp' ? WHATSAPP : NONE
}
