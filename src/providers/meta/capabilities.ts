import { CONTENT_TYPES } from '../../domain/content.js'
import type { Capabilities } from '../types.js'

const MB = 1024 * 1024

/**
 * What the Cloud API accepts (providers/meta.md §1.2 and §4). Stickers are held to the animated
 * limit (500 KB); static ones are smaller (100 KB) but the MIME type cannot tell them apart.
 *
 * @example
 * META_CAPABILITIES.media.image?.maxBytes // 5 MiB
 */
export const META_CAPABILITIES: Capabilities = {
  types: CONTENT_TYPES,
  media: {
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
  },
  textMaxLength: 4096,
  captionMaxLength: 1024,
  userIdRecipients: true,
}
