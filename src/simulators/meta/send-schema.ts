import { z } from 'zod'
import { isBsuid, looksLikePhone } from './wa-id.js'

/**
 * Shape checks for `POST /<PHONE_NUMBER_ID>/messages`, written from meta.md §1.1–§1.2. Unknown keys
 * are tolerated (Meta ignores most of them); documented limits are enforced.
 */

const nonEmpty = z.string().min(1)

const text = z.object({ body: nonEmpty.max(4096), preview_url: z.boolean().optional() })

/** Media goes by uploaded `id` or by `link`, never both. */
function media(opts: { caption: boolean }) {
  return z
    .object({
      id: nonEmpty.optional(),
      link: z.url().optional(),
      caption: z.string().max(1024).optional(),
      filename: z.string().optional(),
    })
    .refine((m) => (m.id === undefined) !== (m.link === undefined), { message: 'exactly one of id or link is required' })
    .refine((m) => opts.caption || m.caption === undefined, { message: 'caption is not allowed on this media type' })
}

const templateComponent = z.object({
  type: z.enum(['header', 'body', 'footer', 'button']),
  sub_type: z.string().optional(),
  index: z.union([z.string(), z.number()]).optional(),
  parameters: z.array(z.looseObject({ type: nonEmpty })).optional(),
})

const template = z.object({
  name: nonEmpty.max(512),
  language: z.object({ code: nonEmpty, policy: z.literal('deterministic').optional() }),
  components: z
    .array(templateComponent)
    .optional()
    .refine((cs) => !cs?.some((c) => c.type === 'button' && (c.sub_type === undefined || c.index === undefined)), {
      message: 'button components need sub_type and index',
    }),
})

const interactiveBody = z.object({ text: nonEmpty.max(4096) })
const interactiveFooter = z.object({ text: nonEmpty.max(60) })

const replyButton = z.object({
  type: z.literal('reply'),
  reply: z.object({ id: nonEmpty.max(256), title: nonEmpty.max(20) }),
})

const buttonMessage = z.object({
  type: z.literal('button'),
  header: z.looseObject({ type: nonEmpty }).optional(),
  body: interactiveBody,
  footer: interactiveFooter.optional(),
  action: z.object({
    buttons: z
      .array(replyButton)
      .min(1)
      .max(3)
      .refine((bs) => new Set(bs.map((b) => b.reply.id)).size === bs.length, { message: 'button ids must be unique' }),
  }),
})

const listRow = z.object({ id: nonEmpty.max(200), title: nonEmpty.max(24), description: z.string().max(72).optional() })

const listMessage = z.object({
  type: z.literal('list'),
  header: z.object({ type: z.literal('text'), text: nonEmpty.max(60) }).optional(),
  body: interactiveBody,
  footer: interactiveFooter.optional(),
  action: z.object({
    button: nonEmpty.max(20),
    sections: z
      .array(z.object({ title: z.string().max(24).optional(), rows: z.array(listRow).min(1) }))
      .min(1)
      .max(10)
      .refine((ss) => ss.reduce((n, s) => n + s.rows.length, 0) <= 10, { message: 'a list has at most 10 rows' }),
  }),
})

/** cta_url / flow / location request: only their named action is checked. */
const namedActionMessage = (type: string, name: string) =>
  z.object({
    type: z.literal(type),
    body: interactiveBody,
    action: z.looseObject({ name: z.literal(name) }),
  })

const interactive = z.discriminatedUnion('type', [
  buttonMessage,
  listMessage,
  namedActionMessage('cta_url', 'cta_url'),
  namedActionMessage('flow', 'flow'),
  namedActionMessage('location_request_message', 'send_location'),
])

const coordinate = (limit: number) =>
  z
    .union([z.number(), z.string().regex(/^-?\d+(\.\d+)?$/)])
    .transform(Number)
    .refine((v) => Math.abs(v) <= limit, { message: `must be within ±${limit}` })

const location = z.object({
  latitude: coordinate(90),
  longitude: coordinate(180),
  name: z.string().optional(),
  address: z.string().optional(),
})

const reaction = z.object({ message_id: nonEmpty, emoji: z.string().optional() })

const contacts = z.array(z.looseObject({ name: z.looseObject({ formatted_name: nonEmpty }) })).min(1)

export const MESSAGE_TYPES = [
  'text',
  'audio',
  'document',
  'image',
  'sticker',
  'video',
  'location',
  'contacts',
  'interactive',
  'template',
  'reaction',
] as const
export type MessageType = (typeof MESSAGE_TYPES)[number]

const perType: Record<MessageType, z.ZodType> = {
  text,
  image: media({ caption: true }),
  video: media({ caption: true }),
  document: media({ caption: true }),
  audio: media({ caption: false }),
  sticker: media({ caption: false }),
  template,
  interactive,
  location,
  reaction,
  contacts,
}

const envelope = z.object({
  messaging_product: z.literal('whatsapp'),
  recipient_type: z.literal('individual').optional(),
  to: z.string().optional(),
  recipient: z.string().optional(),
  // Meta: "type … If omitted, defaults to text".
  type: z.enum(MESSAGE_TYPES).default('text'),
  context: z.object({ message_id: nonEmpty }).optional(),
  biz_opaque_callback_data: z
    .string()
    .refine((s) => Buffer.byteLength(s) <= 512, { message: 'at most 512 bytes' })
    .optional(),
})

const markRead = z.object({
  messaging_product: z.literal('whatsapp'),
  status: z.literal('read'),
  message_id: nonEmpty,
  typing_indicator: z.object({ type: z.literal('text') }).optional(),
})

/** A send the simulator accepted, with the recipient already resolved. */
export interface CheckedSend {
  kind: 'send'
  type: MessageType
  /** `to` when present (it wins over `recipient`), else `recipient`. */
  recipient: string
  recipientKind: 'phone' | 'bsuid'
  clientRef?: string
  /** Template name and language, for checking against the configured templates. */
  template?: { name: string; language: string }
}

export type SendCheck = CheckedSend | { kind: 'read'; messageId: string } | { kind: 'invalid'; details: string }

function describe(error: z.ZodError, prefix: string): string {
  const issue = error.issues[0]
  if (!issue) return 'invalid request'
  const path = [prefix, ...issue.path.map(String)].filter(Boolean).join('.')
  return `${path}: ${issue.message}`
}

/**
 * Classifies and checks a parsed request body. Never throws.
 *
 * @example
 * checkSendBody({ messaging_product: 'whatsapp', to: '16505551234', type: 'text', text: { body: 'hi' } })
 * // { kind: 'send', type: 'text', recipient: '16505551234', recipientKind: 'phone' }
 */
export function checkSendBody(body: unknown): SendCheck {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { kind: 'invalid', details: 'request body must be a JSON object' }
  }
  const record = body as Record<string, unknown>
  if ('status' in record) {
    const read = markRead.safeParse(record)
    return read.success ? { kind: 'read', messageId: read.data.message_id } : { kind: 'invalid', details: describe(read.error, '') }
  }
  const head = envelope.safeParse(record)
  if (!head.success) return { kind: 'invalid', details: describe(head.error, '') }
  const { to, recipient: rawRecipient, type } = head.data
  const target = resolveRecipient(to, rawRecipient)
  if ('details' in target) return { kind: 'invalid', details: target.details }
  if (record[type] === undefined) return { kind: 'invalid', details: `${type}: required for type ${type}` }
  const content = perType[type].safeParse(record[type])
  if (!content.success) return { kind: 'invalid', details: describe(content.error, type) }
  const checked: CheckedSend = { kind: 'send', type, ...target }
  if (head.data.biz_opaque_callback_data !== undefined) checked.clientRef = head.data.biz_opaque_callback_data
  if (type === 'template') {
    const t = content.data as z.infer<typeof template>
    checked.template = { name: t.name, language: t.language.code }
  }
  return checked
}

function resolveRecipient(
  to: string | undefined,
  recipient: string | undefined,
): { recipient: string; recipientKind: 'phone' | 'bsuid' } | { details: string } {
  // meta.md §1.2: when both are present, `to` wins.
  if (to !== undefined) {
    return looksLikePhone(to) ? { recipient: to, recipientKind: 'phone' } : { details: `to: not a valid phone number (${to})` }
  }
  if (recipient !== undefined) {
    if (isBsuid(recipient)) return { recipient, recipientKind: 'bsuid' }
    if (looksLikePhone(recipient)) return { recipient, recipientKind: 'phone' }
    return { details: `recipient: not a business-scoped user id (${recipient})` }
  }
  return { details: 'to: one of to or recipient is required' }
}
