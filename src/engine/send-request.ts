import { z } from 'zod'
import {
  CONTENT_TYPES,
  InteractiveSchema,
  LocationSchema,
  MEDIA_KINDS,
  MediaSchema,
  ReactionSchema,
  TemplateSchema,
  type ContentType,
  type OutboundContent,
} from '../domain/content.js'
import { VARIABLE_NAME } from '../domain/variables.js'
import { ApiError } from './api-error.js'
import { NextReplyChangeSchema, SessionChangeSchema } from './routing-refs.js'

/**
 * The body of `POST /v1/messages` (DESIGN §11), validated in two steps so that an unknown `type`
 * gets its own stable code and a known one gets field-level messages.
 */
const common = {
  account: z.string().min(1).max(64).optional(),
  to: z.string().min(1).max(160),
  reply_to: z.string().min(1).max(256).optional(),
  reply_ref: z.string().min(1).max(200).optional(),
  // Routing state of (account, contact), applied when the message is accepted (DESIGN §9).
  session: SessionChangeSchema.optional(),
  nextreply: NextReplyChangeSchema.optional(),
  metadata: z.record(z.string(), z.unknown()).optional(),
  // `{{name}}` in texts is filled from these (DESIGN §8); without them texts go out as written.
  variables: z
    .record(z.string().regex(VARIABLE_NAME, 'variable names are letters, digits, _ . - (max 64), not starting with . or -'), z.string().max(4096))
    .refine((v) => Object.keys(v).length <= 100, 'at most 100 variables')
    .optional(),
}

const mediaVariants = MEDIA_KINDS.map((kind) =>
  z.object({ ...common, type: z.literal(kind), media: MediaSchema }).strict(),
)

export const sendRequestSchema = z.discriminatedUnion('type', [
  z.object({ ...common, type: z.literal('text'), text: z.string().min(1).max(100_000), preview_url: z.boolean().optional() }).strict(),
  ...mediaVariants,
  z.object({ ...common, type: z.literal('template'), template: TemplateSchema }).strict(),
  z.object({ ...common, type: z.literal('interactive'), interactive: InteractiveSchema }).strict(),
  z.object({ ...common, type: z.literal('location'), location: LocationSchema }).strict(),
  z.object({ ...common, type: z.literal('reaction'), reaction: ReactionSchema }).strict(),
])
export type SendRequest = z.infer<typeof sendRequestSchema>

/** Loose schema used only for the OpenAPI document (the strict one is a union per type). */
export const sendRequestDoc = z.object({
  ...common,
  type: z.enum(CONTENT_TYPES),
  text: z.string().optional(),
  preview_url: z.boolean().optional(),
  media: z.object({ url: z.string().optional(), id: z.string().optional(), caption: z.string().optional(), filename: z.string().optional(), mime_type: z.string().optional(), size: z.number().optional() }).optional(),
  template: z.unknown().optional(),
  interactive: z.unknown().optional(),
  location: z.unknown().optional(),
  reaction: z.unknown().optional(),
})

export function parseSendRequest(body: unknown): SendRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new ApiError('invalid_request', 'the body must be a JSON object')
  }
  const type = (body as Record<string, unknown>).type
  if (typeof type !== 'string' || !(CONTENT_TYPES as readonly string[]).includes(type)) {
    throw new ApiError('unknown_message_type', `type must be one of ${CONTENT_TYPES.join(', ')}${typeof type === 'string' ? `; got "${type.slice(0, 40)}"` : ''}`)
  }
  const parsed = sendRequestSchema.safeParse(body)
  if (!parsed.success) {
    throw new ApiError('invalid_request', parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '), {
      errors: parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
    })
  }
  const req = parsed.data
  if ((req.type === 'audio' || req.type === 'sticker') && req.media.caption) {
    throw new ApiError('invalid_request', `media.caption: WhatsApp does not show captions on ${req.type}; send the text as its own message`)
  }
  if (req.type !== 'document' && 'media' in req && req.media.filename) {
    throw new ApiError('invalid_request', 'media.filename: only documents carry a file name')
  }
  return req
}

export function contentOf(req: SendRequest): OutboundContent {
  switch (req.type) {
    case 'text':
      return { type: 'text', text: req.text, ...(req.preview_url !== undefined ? { preview_url: req.preview_url } : {}) }
    case 'template':
      return { type: 'template', template: req.template }
    case 'interactive':
      return { type: 'interactive', interactive: req.interactive }
    case 'location':
      return { type: 'location', location: req.location }
    case 'reaction':
      return { type: 'reaction', reaction: req.reaction }
    default:
      return { type: req.type, media: req.media }
  }
}

export function isContentType(value: string): value is ContentType {
  return (CONTENT_TYPES as readonly string[]).includes(value)
}
