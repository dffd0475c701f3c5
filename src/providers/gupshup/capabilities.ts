import type { Capabilities, Channel } from '../types.js'

const MB = 1024 * 1024

/**
 * What the Gupshup v1 API sends (gupshup.md §1): session text, media, location, quick-reply and
 * list messages, and templates. No reactions, no business-scoped user ids. Media limits are
 * WhatsApp's own, which Gupshup passes through.
 */
const WHATSAPP: Capabilities = {
  types: ['text', 'image', 'audio', 'video', 'document', 'sticker', 'template', 'interactive', 'location'],
  media: {
    image: { mimeTypes: ['image/jpeg', 'image/png'], maxBytes: 5 * MB },
    audio: { mimeTypes: ['audio/aac', 'audio/amr', 'audio/mpeg', 'audio/mp4', 'audio/ogg'], maxBytes: 16 * MB },
    video: { mimeTypes: ['video/mp4', 'video/3gp', 'video/3gpp'], maxBytes: 16 * MB },
    document: {
      mimeTypes: [
        'text/plain',
        'application/pdf',
        'application/msword',
        'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
        'application/vnd.ms-excel',
        'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
        'application/vnd.ms-powerpoint',
        'application/vnd.openxmlformats-officedocument.presentationml.presentation',
      ],
      maxBytes: 100 * MB,
    },
    sticker: { mimeTypes: ['image/webp'], maxBytes: 500 * 1024 },
  },
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
