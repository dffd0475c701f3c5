import type { MediaLimit } from './types.js'

const MB = 1024 * 1024

/**
 * WhatsApp's own media types and sizes (providers/meta.md §4). Providers that pass media through to
 * WhatsApp unchanged (Meta, Gupshup, and Sinch for most kinds) share this table rather than copy it.
 * Stickers are held to the animated limit (500 KB): the MIME type cannot tell static ones apart.
 *
 * @example
 * WHATSAPP_MEDIA.image.maxBytes // 5 MiB
 */
export const WHATSAPP_MEDIA = {
  image: { mimeTypes: ['image/jpeg', 'image/png'], maxBytes: 5 * MB },
  audio: { mimeTypes: ['audio/aac', 'audio/amr', 'audio/mpeg', 'audio/mp4', 'audio/ogg'], maxBytes: 16 * MB },
  video: { mimeTypes: ['video/mp4', 'video/3gp', 'video/3gpp'], maxBytes: 16 * MB },
  sticker: { mimeTypes: ['image/webp'], maxBytes: 500 * 1024 },
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
} as const satisfies Record<string, MediaLimit>
