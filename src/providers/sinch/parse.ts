import { mimeFromName } from '../../domain/content.js'
import type { MediaKind } from '../../domain/content.js'
import type { InboundMessage, Party, ProviderStatus, RawRequest, WebhookItem } from '../types.js'
import { normalizeReason } from './errors.js'
import {
  CALLBACK_KEYS,
  DeliveryReportSchema,
  EnvelopeSchema,
  InboundMessageSchema,
  OptNotificationSchema,
} from './schemas.js'
import type { CallbackKey, ChannelIdentity, ContactMessage, Envelope } from './schemas.js'

/**
 * Turns one Sinch callback into webhook items (sinch.md §2). A callback is classified by which
 * top-level key it carries. Never throws: anything unreadable becomes a `rejected` item.
 */

/**
 * Sinch delivery statuses → wagate's vocabulary. Absent ones (SWITCHING_CHANNEL…) are ignored.
 * QUEUED_ON_CHANNEL means Sinch dispatched the message to WhatsApp (sinch.md §2); Sinch has no
 * other word for that step, so it is our `sent` (otherwise a Sinch message would go sending → read).
 */
export const DELIVERY_STATUS_TABLE: Readonly<Record<string, ProviderStatus>> = {
  QUEUED: 'queued',
  QUEUED_ON_CHANNEL: 'sent',
  DELIVERED: 'delivered',
  READ: 'read',
  FAILED: 'failed',
}

const WHATSAPP = 'WHATSAPP'

/**
 * @example
 * parseCallback(req, { now: Date.now })
 * // [{ kind: 'message', message: { providerMessageId: '01EBDTPPG3Q3EH14H7DY8X09MG', from: { phone: '+46712312312', waId: '46712312312' }, type: 'text', … } }]
 */
export function parseCallback(req: RawRequest, options: { now: () => number }): WebhookItem[] {
  try {
    let body: unknown
    try {
      body = JSON.parse(req.body.toString('utf8'))
    } catch {
      return [{ kind: 'rejected', reason: 'body is not JSON' }]
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) return [{ kind: 'rejected', reason: 'body is not a JSON object' }]
    const record = body as Record<string, unknown>
    const envelope = EnvelopeSchema.parse(record)
    const key = CALLBACK_KEYS.find((k) => record[k] !== undefined && record[k] !== null)
    if (key === undefined) {
      return typeof record['app_id'] === 'string'
        ? [{ kind: 'ignored', reason: 'unrecognized sinch callback' }]
        : [{ kind: 'rejected', reason: 'not a sinch callback' }]
    }
    const fallbackTime = options.now()
    return [parseByKey(key, record[key], envelope, record, fallbackTime)]
  } catch {
    return [{ kind: 'rejected', reason: 'unreadable sinch callback' }]
  }
}

function parseByKey(key: CallbackKey, value: unknown, envelope: Envelope, raw: unknown, fallbackTime: number): WebhookItem {
  switch (key) {
    case 'message':
      return parseInbound(value, envelope, raw, fallbackTime)
    case 'message_delivery_report':
      return parseDelivery(value, envelope, raw, fallbackTime)
    case 'opt_in_notification':
    case 'opt_out_notification':
      return parseOptNotification(key, value, envelope, raw, fallbackTime)
    default:
      return { kind: 'ignored', reason: `sinch ${key}` }
  }
}

function parseInbound(value: unknown, envelope: Envelope, raw: unknown, fallbackTime: number): WebhookItem {
  const parsed = InboundMessageSchema.safeParse(value)
  if (!parsed.success) return { kind: 'rejected', reason: 'malformed sinch message' }
  const msg = parsed.data
  // Other channels of the same Sinch app are not this WhatsApp sender's conversation.
  if (msg.channel_identity.channel !== WHATSAPP) return { kind: 'ignored', reason: `inbound on channel ${msg.channel_identity.channel}` }
  if (msg.direction !== undefined && msg.direction !== 'TO_APP') return { kind: 'ignored', reason: `message direction ${msg.direction}` }
  const message: InboundMessage = {
    providerMessageId: msg.id,
    from: partyFromIdentity(msg.channel_identity.identity),
    timestamp: firstTime([envelope.event_time, msg.accept_time, envelope.accepted_time], fallbackTime),
    ...inboundContent(msg.contact_message),
    raw,
  }
  return { kind: 'message', message }
}

type InboundContent = Pick<InboundMessage, 'type' | 'text' | 'media' | 'location' | 'interactive' | 'context'>

function inboundContent(cm: ContactMessage): InboundContent {
  const context = cm.reply_to ? { context: { id: cm.reply_to.message_id } } : {}
  if (cm.text_message) return { type: 'text', text: cm.text_message.text, ...context }
  if (cm.media_message) return { type: mediaKindOf(cm.media_message.url), media: { url: cm.media_message.url }, ...context }
  if (cm.media_card_message) {
    const { url, caption } = cm.media_card_message
    return { type: mediaKindOf(url), media: { url, ...(caption ? { caption } : {}) }, ...context }
  }
  if (cm.location_message) {
    const { coordinates, title, label } = cm.location_message
    return {
      type: 'location',
      location: { latitude: coordinates.latitude, longitude: coordinates.longitude, ...(title ? { name: title } : {}), ...(label ? { address: label } : {}) },
      ...context,
    }
  }
  if (cm.choice_response_message) {
    const { message_id: answered, postback_data: postback } = cm.choice_response_message
    // Without explicit postback data Sinch sends `{message_id}_{choice text}`: recover the text.
    const title = answered && postback.startsWith(`${answered}_`) ? postback.slice(answered.length + 1) : postback
    return {
      type: 'interactive',
      interactive: { type: 'choice_response', id: postback, title },
      ...(cm.reply_to ? context : answered ? { context: { id: answered } } : {}),
    }
  }
  return { type: 'unsupported', ...context }
}

function mediaKindOf(url: string): MediaKind {
  let path = url
  try {
    path = new URL(url).pathname
  } catch {
    // not a URL: guess from the string as it is
  }
  const mime = mimeFromName(path) ?? ''
  if (mime.startsWith('image/')) return 'image'
  if (mime.startsWith('video/')) return 'video'
  if (mime.startsWith('audio/')) return 'audio'
  return 'document'
}

function parseDelivery(value: unknown, envelope: Envelope, raw: unknown, fallbackTime: number): WebhookItem {
  const parsed = DeliveryReportSchema.safeParse(value)
  if (!parsed.success) return { kind: 'rejected', reason: 'malformed sinch message_delivery_report' }
  const report = parsed.data
  // Own keys only: a status of `__proto__` or `constructor` must not find Object.prototype's.
  const status = Object.hasOwn(DELIVERY_STATUS_TABLE, report.status) ? DELIVERY_STATUS_TABLE[report.status] : undefined
  if (!status) return { kind: 'ignored', reason: `sinch delivery status ${report.status}` }
  return {
    kind: 'status',
    status: {
      providerMessageId: report.message_id,
      status,
      providerStatus: report.status,
      timestamp: firstTime([envelope.event_time, envelope.accepted_time], fallbackTime),
      recipient: recipientOf(report.channel_identity),
      // The outcome comes from `status`: a reason on a DELIVERED report is not a failure.
      ...(status === 'failed' ? { error: normalizeReason(report.reason) } : {}),
      raw,
    },
  }
}

function parseOptNotification(
  key: 'opt_in_notification' | 'opt_out_notification',
  value: unknown,
  envelope: Envelope,
  raw: unknown,
  fallbackTime: number,
): WebhookItem {
  const parsed = OptNotificationSchema.safeParse(value)
  if (!parsed.success) return { kind: 'rejected', reason: `malformed sinch ${key}` }
  const note = parsed.data
  if (note.channel !== WHATSAPP) return { kind: 'ignored', reason: `${key} on channel ${note.channel}` }
  const succeeded = key === 'opt_in_notification' ? 'OPT_IN_SUCCEEDED' : 'OPT_OUT_SUCCEEDED'
  if (note.status !== succeeded) return { kind: 'ignored', reason: `${key} status ${note.status}` }
  return {
    kind: 'contact',
    event: {
      type: key === 'opt_in_notification' ? 'opted_in' : 'opted_out',
      contact: partyFromIdentity(note.identity),
      timestamp: firstTime([envelope.event_time, envelope.accepted_time], fallbackTime),
      raw,
    },
  }
}

function recipientOf(identity: ChannelIdentity | undefined): Party {
  return identity && identity.channel === WHATSAPP ? partyFromIdentity(identity.identity) : {}
}

/**
 * A WhatsApp channel identity as a Party. Sinch writes the number with or without `+`
 * (sinch.md §2); anything that is not a number is kept as a business-scoped user id.
 *
 * @example
 * partyFromIdentity('+46702471483') // { phone: '+46702471483', waId: '46702471483' }
 */
export function partyFromIdentity(identity: string): Party {
  const trimmed = identity.trim()
  if (/^\+?\d{6,15}$/.test(trimmed)) {
    const digits = trimmed.replace(/^\+/, '')
    return { phone: `+${digits}`, waId: digits }
  }
  return trimmed && trimmed.length <= 256 ? { userId: trimmed } : {}
}

/** The first parseable ISO-8601 time, in unix ms. */
function firstTime(values: Array<string | undefined>, fallback: number): number {
  for (const value of values) {
    if (!value) continue
    const ms = Date.parse(value)
    if (Number.isFinite(ms)) return ms
  }
  return fallback
}
