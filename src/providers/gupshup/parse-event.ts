import type { Party, ProviderStatus, StatusUpdate, WebhookItem } from '../types.js'
import { partyOf, waIdOf } from './address.js'
import { normalizeFailure } from './errors.js'
import { FailureSchema, MessageEventSchema, MismatchSchema, UserEventSchema, type Envelope, type MessageEvent } from './schemas.js'
import { table } from './table.js'

/** Gupshup's status words and wagate's (gupshup.md §2.3). */
export const STATUS_MAP: Readonly<Record<string, ProviderStatus>> = table({
  enqueued: 'queued',
  sent: 'sent',
  delivered: 'delivered',
  read: 'read',
  failed: 'failed',
  deleted: 'deleted',
})

/** user-event types and the contact event each one is. */
const USER_EVENTS: Readonly<Record<string, 'opted_in' | 'opted_out'>> = table({
  'opted-in': 'opted_in',
  'opted-out': 'opted_out',
})

/**
 * Which id is the one `send()` returned (`messageId`): `enqueued` and synchronous `failed` events
 * carry it as `id`; `sent`, `delivered`, `read` and asynchronous `failed` as `gsId` beside the
 * WhatsApp id. Events older than a week lack `gsId`, leaving only the WhatsApp id.
 */
function gupshupIdOf(event: MessageEvent): string | undefined {
  // An empty id names no message: fall through to the other one, else there is none.
  return event.gsId || event.id || undefined
}

/**
 * Who the status concerns. Gupshup's support notes that a `sent` (and later) event's `destination`
 * is the WhatsApp id, while before that it is the number the send request named.
 */
function recipientOf(event: MessageEvent, status: ProviderStatus): Party {
  const userId = event.userId ? { userId: event.userId } : {}
  if (status === 'queued' || status === 'failed') {
    const { phone } = partyOf(event.destination)
    return { ...(phone !== undefined ? { phone } : {}), ...userId }
  }
  const waId = waIdOf(event.destination)
  return { ...(waId !== undefined ? { waId } : {}), ...userId }
}

function mismatchOf(envelope: Envelope, event: MessageEvent, raw: unknown): WebhookItem {
  const mismatch = MismatchSchema.safeParse(event.payload)
  const newWaId = mismatch.success ? waIdOf(mismatch.data.wa_id) : undefined
  if (!mismatch.success || newWaId === undefined) return { kind: 'rejected', reason: 'mismatch event without a wa_id' }
  const { phone } = partyOf(mismatch.data.phone ?? event.destination)
  if (phone === undefined) return { kind: 'rejected', reason: 'mismatch event without the requested number' }
  return {
    kind: 'contact',
    event: {
      type: 'wa_id_changed',
      contact: { phone, ...(event.userId ? { userId: event.userId } : {}) },
      newWaId,
      timestamp: envelope.timestamp,
      raw,
    },
  }
}

/**
 * A `message-event` callback as a `status` item (or a `wa_id_changed` contact item for `mismatch`).
 *
 * @example
 * parseMessageEvent(envelope, raw) // [{ kind: 'status', status: { providerMessageId: '1a6207e5-…', status: 'delivered', … } }]
 */
export function parseMessageEvent(envelope: Envelope, raw: unknown): WebhookItem[] {
  const parsed = MessageEventSchema.safeParse(envelope.payload)
  if (!parsed.success) return [{ kind: 'rejected', reason: 'message-event without a type' }]
  const event = parsed.data
  if (event.type === 'mismatch') return [mismatchOf(envelope, event, raw)]

  const status = STATUS_MAP[event.type]
  if (status === undefined) return [{ kind: 'ignored', reason: `message-event ${event.type}` }]
  const providerMessageId = gupshupIdOf(event)
  if (providerMessageId === undefined) return [{ kind: 'rejected', reason: `${event.type} event without a message id` }]

  const update: StatusUpdate = {
    providerMessageId,
    status,
    providerStatus: event.type,
    timestamp: envelope.timestamp,
    recipient: recipientOf(event, status),
    raw,
  }
  if (status === 'failed') {
    const failure = FailureSchema.safeParse(event.payload)
    update.error = normalizeFailure(failure.success ? failure.data.code : undefined, failure.success ? failure.data.reason : undefined)
  }
  return [{ kind: 'status', status: update }]
}

/**
 * A `user-event` callback: opt-in / opt-out become contact events; `sandbox-start` and anything
 * else are acknowledged and ignored.
 *
 * @example
 * parseUserEvent(envelope, raw) // [{ kind: 'contact', event: { type: 'opted_out', contact: { … } } }]
 */
export function parseUserEvent(envelope: Envelope, raw: unknown): WebhookItem[] {
  const parsed = UserEventSchema.safeParse(envelope.payload)
  if (!parsed.success) return [{ kind: 'rejected', reason: 'user-event without a type' }]
  const type = USER_EVENTS[parsed.data.type]
  if (type === undefined) return [{ kind: 'ignored', reason: `user-event ${parsed.data.type}` }]
  const contact = partyOf(parsed.data.phone)
  if (Object.keys(contact).length === 0) return [{ kind: 'rejected', reason: `${parsed.data.type} without a phone` }]
  return [{ kind: 'contact', event: { type, contact, timestamp: envelope.timestamp, raw } }]
}
