import { CONTENT_TYPES } from '../../domain/content.js'
import type { Capabilities } from '../types.js'
import { WHATSAPP_MEDIA } from '../whatsapp-media.js'

/**
 * What the Cloud API accepts (providers/meta.md §1.2 and §4). Stickers are held to the animated
 * limit (500 KB); static ones are smaller (100 KB) but the MIME type cannot tell them apart.
 *
 * @example
 * META_CAPABILITIES.media.image?.maxBytes // 5 MiB
 */
export const META_CAPABILITIES: Capabilities = {
  types: CONTENT_TYPES,
  media: WHATSAPP_MEDIA,
  textMaxLength: 4096,
  captionMaxLength: 1024,
  userIdRecipients: true,
}
