import type { Capabilities, Channel } from '../types.js'

const MB = 1024 * 1024
const KB = 1024

/**
 * WhatsApp through Twilio. Media types and limits: twilio.com/docs/whatsapp/guidance-whatsapp-media-messages
 * ("maximum size limit is 16MB… size limit for images is only 5 MB"; image/webp is for stickers only).
 * The sticker size is WhatsApp's own animated-sticker limit (inference; Twilio gives none).
 * Interactive buttons/lists and reactions are not listed: Twilio sends them only as pre-built
 * Content API templates, which reach us as `template` (a ContentSid).
 * Body is at most 1,600 characters (twilio.md §1); a caption travels in Body.
 */
const WHATSAPP: Capabilities = {
  types: ['text', 'image', 'audio', 'video', 'document', 'sticker', 'template', 'location'],
  media: {
    image: { mimeTypes: ['image/jpeg', 'image/png'], maxBytes: 5 * MB },
    sticker: { mimeTypes: ['image/webp'], maxBytes: 500 * KB },
    audio: { mimeTypes: ['audio/ogg', 'audio/amr', 'audio/3gpp', 'audio/aac', 'audio/mpeg'], maxBytes: 16 * MB },
    video: { mimeTypes: ['video/mp4'], maxBytes: 16 * MB },
    document: {
      mimeTypes: [
        'application/pdf',
        'application/msword',
        'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
        'application/vnd.openxmlformats-officedocument.presentationml.presentation',
        'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
      ],
      maxBytes: 16 * MB,
    },
  },
  textMaxLength: 1600,
  captionMaxLength: 1600,
  // courier sends `whatsapp:<CC.xxx>` for contacts known only by a business-scoped user id (twilio.md §1).
  userIdRecipients: true,
}

/**
 * SMS (MMS when media is attached). The OpenAPI `MediaUrl` description gives 5 MB for
 * jpeg/png/gif; other types are only "accepted" and capped at 500 KB, so only images are offered.
 */
const SMS: Capabilities = {
  types: ['text', 'image'],
  media: {
    image: { mimeTypes: ['image/jpeg', 'image/png', 'image/gif'], maxBytes: 5 * MB },
  },
  textMaxLength: 1600,
  captionMaxLength: 1600,
  userIdRecipients: false,
}

/**
 * What a Twilio account can send on its channel.
 *
 * @example
 * twilioCapabilities('sms').types // ['text', 'image']
 */
export function twilioCapabilities(channel: Channel): Capabilities {
  return channel === 'sms' ? SMS : WHATSAPP
}
