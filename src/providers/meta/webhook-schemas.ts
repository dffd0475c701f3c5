import { z } from 'zod'

/**
 * Zod shapes of the pieces of a Cloud API webhook (providers/meta.md §2). Each list element is
 * parsed on its own so one bad element becomes one `rejected` item, not a lost batch.
 */

/** Unix seconds as a string (Meta) or number; values ≥ 1e12 are already milliseconds. */
export const timestampSchema = z
  .union([z.string().regex(/^\d{1,16}$/), z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER)])
  .transform((v) => {
    const n = Number(v)
    return n >= 1e12 ? n : n * 1000
  })
  // Sixteen digits can exceed a Date's range (8.64e15 ms), and the pipeline writes the time as ISO.
  .refine((ms) => ms <= 8.64e15, 'timestamp is not a time')

export const errorSchema = z.object({
  code: z.union([z.number().int(), z.string().regex(/^\d{1,12}$/)]),
  title: z.string().optional(),
  message: z.string().optional(),
  error_data: z.object({ details: z.string().optional() }).optional(),
})
export type MetaWebhookError = z.infer<typeof errorSchema>

export const contactSchema = z.object({
  wa_id: z.string().optional(),
  user_id: z.string().optional(),
  parent_user_id: z.string().optional(),
  profile: z.object({ name: z.string().optional(), username: z.string().optional() }).optional(),
})
export type MetaContact = z.infer<typeof contactSchema>

const mediaSchema = z.object({
  id: z.string().optional(),
  url: z.string().optional(),
  mime_type: z.string().optional(),
  sha256: z.string().optional(),
  caption: z.string().optional(),
  filename: z.string().optional(),
})

const coordinate = z.union([z.number(), z.string().regex(/^-?\d+(\.\d+)?$/).transform(Number)])

export const inboundMessageSchema = z.object({
  id: z.string().min(1),
  timestamp: timestampSchema,
  type: z.string(),
  from: z.string().optional(),
  from_user_id: z.string().optional(),
  from_parent_user_id: z.string().optional(),
  context: z
    .object({
      id: z.string().optional(),
      from: z.string().optional(),
      forwarded: z.boolean().optional(),
      frequently_forwarded: z.boolean().optional(),
    })
    .optional(),
  errors: z.array(z.unknown()).optional(),
  text: z.object({ body: z.string() }).optional(),
  image: mediaSchema.optional(),
  audio: mediaSchema.optional(),
  voice: mediaSchema.optional(),
  video: mediaSchema.optional(),
  document: mediaSchema.optional(),
  sticker: mediaSchema.optional(),
  location: z
    .object({
      latitude: coordinate,
      longitude: coordinate,
      name: z.string().optional(),
      address: z.string().optional(),
      url: z.string().optional(),
    })
    .optional(),
  button: z.object({ text: z.string(), payload: z.string().optional() }).optional(),
  interactive: z.looseObject({ type: z.string() }).optional(),
  reaction: z.object({ message_id: z.string(), emoji: z.string().optional() }).optional(),
  unsupported: z.object({ type: z.string().max(64).optional() }).optional(),
  system: z
    .object({
      type: z.string().optional(),
      body: z.string().optional(),
      wa_id: z.string().optional(),
      user_id: z.string().optional(),
    })
    .optional(),
})
export type MetaInboundMessage = z.infer<typeof inboundMessageSchema>

/** `interactive.button_reply` / `interactive.list_reply`. */
export const interactiveReplySchema = z.object({ id: z.string(), title: z.string(), description: z.string().optional() })
/** `interactive.nfm_reply` (a WhatsApp Flow answered). */
export const flowReplySchema = z.object({ name: z.string().optional(), body: z.string().optional(), response_json: z.string() })

export const statusSchema = z.object({
  id: z.string().min(1),
  status: z.string(),
  timestamp: timestampSchema,
  recipient_id: z.string().optional(),
  recipient_user_id: z.string().optional(),
  parent_recipient_user_id: z.string().optional(),
  errors: z.array(z.unknown()).optional(),
})

const list = z.array(z.unknown())

export const changeValueSchema = z.object({
  metadata: z.object({ phone_number_id: z.string().optional() }).optional(),
  contacts: list.optional(),
  messages: list.optional(),
  statuses: list.optional(),
  errors: list.optional(),
})

export const changeSchema = z.object({ field: z.string(), value: z.unknown() })
export const entrySchema = z.object({ changes: list })
export const envelopeSchema = z.object({ object: z.string().optional(), entry: list })
