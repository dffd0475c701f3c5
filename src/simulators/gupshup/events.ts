/**
 * Builders for Gupshup's version-2 callbacks (gupshup.md §2; fixtures in test/fixtures/gupshup).
 * Every callback is `{app, phone?, timestamp (ms), version: 2, type, payload}`.
 */

export type CallbackType = 'message' | 'message-event' | 'user-event'

export interface Envelope<P> {
  app: string
  /** The app's number; present on newer payloads (delivered, quick-reply examples). */
  phone?: string
  timestamp: number
  version: 2
  type: CallbackType
  payload: P
}

export function envelope<P>(type: CallbackType, app: string, phone: string | undefined, at: number, payload: P): Envelope<P> {
  return phone === undefined ? { app, timestamp: at, version: 2, type, payload } : { app, phone, timestamp: at, version: 2, type, payload }
}

const seconds = (ms: number) => Math.floor(ms / 1000)

/**
 * `enqueued`: handed to WhatsApp. `id` is the Gupshup id returned by the send; the WhatsApp id
 * appears only here, so a gateway that misses it can still correlate later events by `gsId`.
 *
 * @example
 * enqueuedEvent({ gsId, whatsappMessageId: 'gBEG…', destination: '919876543210', kind: 'session' })
 */
export function enqueuedEvent(m: { gsId: string; whatsappMessageId: string; destination: string; kind: 'session' | 'template' }) {
  return { id: m.gsId, type: 'enqueued', destination: m.destination, payload: { whatsappMessageId: m.whatsappMessageId, type: m.kind } }
}

/** Failure before WhatsApp (1002, 1012…): the Gupshup id is in `id`, there is no `gsId`. */
export function syncFailedEvent(m: { gsId: string; destination: string; code: number; reason: string }) {
  return { id: m.gsId, type: 'failed', destination: m.destination, payload: { code: m.code, reason: m.reason } }
}

/**
 * `mismatch`: the number asked for is not the recipient's WhatsApp id. No message id is present;
 * `destination` and `phone` are the number as sent, `wa_id` is what WhatsApp knows.
 */
export function mismatchEvent(m: { destination: string; waId: string }) {
  return { type: 'mismatch', destination: m.destination, payload: { wa_id: m.waId, phone: m.destination } }
}

/**
 * `sent`, `delivered`, `read`: `id` is now the WhatsApp id, `gsId` the Gupshup id, `destination`
 * the recipient's WhatsApp id (the number to use from then on). `sent` carries pricing in the
 * per-message model (PMP, from July 2025) and a conversation block.
 */
export function progressEvent(
  status: 'sent' | 'delivered' | 'read',
  m: { gsId: string; whatsappMessageId: string; waId: string; kind: 'session' | 'template'; at: number },
) {
  const base = { id: m.whatsappMessageId, gsId: m.gsId, type: status, destination: m.waId, payload: { ts: seconds(m.at) } }
  if (status !== 'sent') return base
  const category = m.kind === 'template' ? 'utility' : 'service'
  return {
    ...base,
    conversation: { id: conversationId(m.waId), expiresAt: seconds(m.at) + 24 * 3600, type: category },
    pricing: { policy: 'PMP', category, type: 'regular' },
  }
}

/** Stable per recipient, like a WhatsApp conversation id (32 hex chars). */
function conversationId(waId: string): string {
  let h = 0x811c9dc5
  const out: string[] = []
  for (let round = 0; round < 4; round++) {
    for (const ch of `${round}:${waId}`) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193) >>> 0
    out.push(h.toString(16).padStart(8, '0'))
  }
  return out.join('')
}

/** `user-event` (opted-in / opted-out / sandbox-start). */
export function userEvent(m: { phone: string; type: 'opted-in' | 'opted-out' | 'sandbox-start' }) {
  return { phone: m.phone, type: m.type }
}
