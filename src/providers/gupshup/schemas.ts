import { z } from 'zod'

/**
 * zod schemas for Gupshup's version-2 callbacks (gupshup.md §2). Only the fields the gateway reads
 * are declared; the rest is kept in `raw`.
 */

/** Numbers sometimes arrive as strings (location coordinates, codes). */
const numberLike = z.union([z.number().finite(), z.string().trim().regex(/^-?[0-9]+(\.[0-9]+)?$/).transform(Number)])
const optionalString = z.string().optional()

export const EnvelopeSchema = z.object({
  app: optionalString,
  /** The app's own number, on partner / newer payloads. */
  phone: optionalString,
  /** When Gupshup generated the event, unix ms (within a Date's range: the pipeline writes it as ISO time). */
  timestamp: numberLike.refine((ms) => Math.abs(ms) <= 8.64e15, 'timestamp is not a time'),
  version: numberLike.optional(),
  type: z.string().min(1),
  payload: z.record(z.string(), z.unknown()),
})
export type Envelope = z.infer<typeof EnvelopeSchema>

export const MessagePayloadSchema = z.object({
  id: z.string().min(1),
  source: optionalString,
  type: z.string().min(1),
  payload: z.record(z.string(), z.unknown()).default({}),
  sender: z
    .object({ phone: optionalString, name: optionalString, userId: optionalString })
    .optional(),
  userId: optionalString,
  context: z
    .object({ id: optionalString, gsId: optionalString, forwarded: z.boolean().optional() })
    .optional(),
})
export type MessagePayload = z.infer<typeof MessagePayloadSchema>

export const TextSchema = z.object({ text: z.string() })

export const MediaSchema = z.object({
  url: z.string().min(1),
  contentType: optionalString,
  /** The docs' table spells the key this way; the examples use `contentType`. */
  'content-type': optionalString,
  caption: optionalString,
  name: optionalString,
})

export const LocationSchema = z.object({
  latitude: numberLike,
  longitude: numberLike,
  name: optionalString,
  address: optionalString,
  url: optionalString,
})

/** Reply to an interactive list or quick-reply session message. */
export const InteractiveReplySchema = z.object({
  title: z.string(),
  id: optionalString,
  reply: optionalString,
  postbackText: optionalString,
  description: optionalString,
})

/** Tap on a template's quick-reply button. */
export const TemplateButtonSchema = z.object({
  text: z.string(),
  type: optionalString,
  postbackText: optionalString,
})

export const MessageEventSchema = z.object({
  id: optionalString,
  gsId: optionalString,
  type: z.string().min(1),
  destination: optionalString,
  payload: z.record(z.string(), z.unknown()).default({}),
  userId: optionalString,
})
export type MessageEvent = z.infer<typeof MessageEventSchema>

export const FailureSchema = z.object({
  code: z.union([z.number(), z.string()]).optional(),
  reason: optionalString,
})

export const MismatchSchema = z.object({
  wa_id: z.string().min(1),
  phone: optionalString,
})

export const UserEventSchema = z.object({
  phone: optionalString,
  type: z.string().min(1),
})
