import { z } from 'zod'
import { isPhoneIdentity } from './identity.js'

/**
 * First-stage validation of `POST /v1/projects/{project}/messages:send` (sinch.md §1, NODE
 * send-message-request.ts): anything wrong here is a synchronous 400. Channel-specific problems are
 * Sinch's second stage: the send is accepted and later fails with a MESSAGE_DELIVERY `FAILED`, so they
 * come back as `channelProblem` instead.
 */

/** ConversationChannel values (NODE); enums are upper-case on the wire. */
const CHANNELS = [
  'WHATSAPP', 'RCS', 'SMS', 'MESSENGER', 'VIBER', 'VIBERBM', 'MMS', 'INSTAGRAM', 'TELEGRAM',
  'KAKAOTALK', 'KAKAOTALKCHAT', 'LINE', 'WECHAT', 'APPLEBC',
] as const

export const MESSAGE_KINDS = [
  'text_message', 'media_message', 'template_message', 'choice_message', 'card_message',
  'carousel_message', 'location_message', 'list_message', 'contact_info_message',
] as const
export type MessageKind = (typeof MESSAGE_KINDS)[number]

const WHATSAPP_TEXT_LIMIT = 4096

const httpUrl = z.string().refine((v) => /^https?:\/\/[^\s/]+/i.test(v), 'must be an http(s) URL')
const parameters = z.record(z.string(), z.string())

const channelIdentity = z.object({ channel: z.enum(CHANNELS), identity: z.string().min(1), app_id: z.string().optional() })
const recipientSchema = z.union([
  z.object({ contact_id: z.string().min(1) }).strict(),
  z.object({ identified_by: z.object({ channel_identities: z.array(channelIdentity).min(1) }) }).strict(),
])

const channelTemplate = z.object({
  template_id: z.string().min(1),
  language_code: z.string().min(1),
  version: z.string().optional(),
  parameters: parameters.optional(),
})
const omniTemplate = z.object({
  template_id: z.string().min(1),
  version: z.string().min(1),
  language_code: z.string().optional(),
  parameters: parameters.optional(),
})

const contentSchemas = {
  text_message: z.object({ text: z.string().min(1) }),
  media_message: z.object({ url: httpUrl, thumbnail_url: httpUrl.optional(), filename_override: z.string().optional() }),
  template_message: z
    .object({ channel_template: z.partialRecord(z.enum(CHANNELS), channelTemplate).optional(), omni_template: omniTemplate.optional() })
    .refine((t) => t.channel_template !== undefined || t.omni_template !== undefined, 'needs channel_template or omni_template'),
  choice_message: z.object({ choices: z.array(z.record(z.string(), z.unknown())).min(1), text_message: z.object({ text: z.string() }).optional() }),
  card_message: z.object({}).loose(),
  carousel_message: z.object({ cards: z.array(z.unknown()).min(1) }).loose(),
  location_message: z.object({ coordinates: z.object({ latitude: z.number(), longitude: z.number() }), title: z.string(), label: z.string().optional() }),
  list_message: z.object({ title: z.string().min(1), sections: z.array(z.unknown()).min(1) }).loose(),
  contact_info_message: z.object({ name: z.object({ full_name: z.string().min(1) }).loose() }).loose(),
} satisfies Record<MessageKind, z.ZodType>

const envelopeSchema = z.object({
  app_id: z.string().min(1),
  recipient: recipientSchema,
  message: z.record(z.string(), z.unknown()),
  channel_priority_order: z.array(z.enum(CHANNELS)).optional(),
  callback_url: httpUrl.optional(),
  channel_properties: z.record(z.string(), z.string()).optional(),
  message_metadata: z.string().max(1024).optional(),
  conversation_metadata: z.record(z.string(), z.unknown()).optional(),
  correlation_id: z.string().max(128).optional(),
  ttl: z.string().regex(/^\d+(\.\d+)?s$/).optional(),
  processing_strategy: z.enum(['DEFAULT', 'DISPATCH_ONLY']).optional(),
  queue: z.enum(['NORMAL_PRIORITY', 'HIGH_PRIORITY']).optional(),
  message_content_type: z.enum(['CONTENT_UNKNOWN', 'CONTENT_MARKETING', 'CONTENT_NOTIFICATION']).optional(),
})

export type SendRecipient = { kind: 'identity'; identity: string } | { kind: 'contact'; contactId: string }

/** A send that passed the first stage but will fail on the WhatsApp channel. */
export interface ChannelProblem {
  code: string
  description: string
}

export interface ParsedSend {
  appId: string
  recipient: SendRecipient
  kind: MessageKind
  messageMetadata?: string
  correlationId?: string
  callbackUrl?: string
  channelProblem?: ChannelProblem
}

export type SendParse = { ok: true; value: ParsedSend } | { ok: false; message: string }

function describe(error: z.ZodError, prefix: string): string {
  const issue = error.issues[0]
  if (!issue) return prefix
  const path = [prefix, ...issue.path.map(String)].filter(Boolean).join('.')
  return `${path}: ${issue.message}`
}

/**
 * @example
 * parseSendRequest({ app_id: 'A', recipient: { contact_id: 'C' }, message: { text_message: { text: 'hi' } } })
 * // { ok: true, value: { appId: 'A', kind: 'text_message', … } }
 */
export function parseSendRequest(body: unknown): SendParse {
  const envelope = envelopeSchema.safeParse(body)
  if (!envelope.success) return { ok: false, message: describe(envelope.error, '') }
  const req = envelope.data

  const kinds = MESSAGE_KINDS.filter((k) => req.message[k] !== undefined)
  const [kind] = kinds
  if (kind === undefined || kinds.length > 1) {
    return { ok: false, message: `message: exactly one of ${MESSAGE_KINDS.join(', ')} is required (got ${kinds.length})` }
  }
  const content = contentSchemas[kind].safeParse(req.message[kind])
  if (!content.success) return { ok: false, message: describe(content.error, `message.${kind}`) }

  const recipient = resolveRecipient(req.recipient)
  const value: ParsedSend = {
    appId: req.app_id,
    recipient: recipient.recipient,
    kind,
    ...(req.message_metadata !== undefined && { messageMetadata: req.message_metadata }),
    ...(req.correlation_id !== undefined && { correlationId: req.correlation_id }),
    ...(req.callback_url !== undefined && { callbackUrl: req.callback_url }),
  }
  const channelProblem = recipient.problem ?? whatsappContentProblem(kind, req.message[kind])
  if (channelProblem) value.channelProblem = channelProblem
  return { ok: true, value }
}

function resolveRecipient(recipient: z.infer<typeof recipientSchema>): { recipient: SendRecipient; problem?: ChannelProblem } {
  if ('contact_id' in recipient) return { recipient: { kind: 'contact', contactId: recipient.contact_id } }
  const identities = recipient.identified_by.channel_identities
  const whatsapp = identities.find((i) => i.channel === 'WHATSAPP')
  if (!whatsapp) {
    const first = identities[0]?.identity ?? ''
    return {
      recipient: { kind: 'identity', identity: first },
      problem: { code: 'CHANNEL_CONFIGURATION_MISSING', description: 'The app has no configuration for the requested channels (only WHATSAPP is set up)' },
    }
  }
  if (!isPhoneIdentity(whatsapp.identity)) {
    return {
      recipient: { kind: 'identity', identity: whatsapp.identity },
      problem: { code: 'RECIPIENT_INVALID_CHANNEL_IDENTITY', description: `Channel identity ${whatsapp.identity} is not a valid WhatsApp phone number` },
    }
  }
  return { recipient: { kind: 'identity', identity: whatsapp.identity } }
}

/** Parameter keys look like `body[1]text`, `header[1]image.link`, `button[0]quick_reply[1]payload`. */
const TEMPLATE_PARAMETER_KEY = /^(header|body|footer|button)\[\d+\]([a-z_]+\[\d+\])?[a-z_]+(\.[a-z_]+)?$/

function whatsappContentProblem(kind: MessageKind, content: unknown): ChannelProblem | undefined {
  if (kind === 'text_message') {
    const text = (content as { text: string }).text
    if (text.length > WHATSAPP_TEXT_LIMIT) {
      return { code: 'BAD_REQUEST', description: `Text is ${text.length} characters; WhatsApp allows at most ${WHATSAPP_TEXT_LIMIT}` }
    }
  }
  if (kind === 'template_message') {
    const template = content as { channel_template?: Record<string, z.infer<typeof channelTemplate> | undefined>; omni_template?: unknown }
    const whatsapp = template.channel_template?.WHATSAPP
    if (!whatsapp) {
      if (template.omni_template === undefined) {
        return { code: 'BAD_REQUEST', description: 'template_message has no WHATSAPP channel_template and no omni_template' }
      }
      return undefined
    }
    if (!/^[a-z]{2,3}(_[A-Za-z]{2,4})?$/.test(whatsapp.language_code)) {
      return {
        code: 'TEMPLATE_NON_EXISTING_LANGUAGE_OR_VERSION',
        description: `WhatsApp template language ${whatsapp.language_code} not found; WhatsApp templates take the underscored form (en_US)`,
      }
    }
    const badKey = Object.keys(whatsapp.parameters ?? {}).find((k) => !TEMPLATE_PARAMETER_KEY.test(k))
    if (badKey !== undefined) {
      return { code: 'BAD_REQUEST', description: `Template parameter key ${badKey} is not of the form body[1]text` }
    }
  }
  return undefined
}
