import type { RawRequest, WebhookItem } from '../types.js'
import { parseMessageEvent, parseUserEvent } from './parse-event.js'
import { parseMessage } from './parse-message.js'
import { EnvelopeSchema, type Envelope } from './schemas.js'
import { table } from './table.js'

/** Callback types the gateway does not act on (gupshup.md §2.6); acknowledged, nothing stored. */
const IGNORED_TYPES = new Set(['billing-event', 'template-event', 'account-event', 'system-event', 'onboarding-event'])

const HANDLERS: Readonly<Record<string, (envelope: Envelope, raw: unknown) => WebhookItem[]>> = table({
  message: parseMessage,
  'message-event': parseMessageEvent,
  'user-event': parseUserEvent,
})

function jsonOf(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'))
  } catch {
    return undefined
  }
}

/**
 * Parses one verified Gupshup v2 callback into webhook items. Never throws: bytes that are not a
 * Gupshup envelope give one `rejected` item.
 *
 * @example
 * parseGupshup({ method: 'POST', url, headers: {}, body: Buffer.from(JSON.stringify(callback)) })
 * // [{ kind: 'status', status: { status: 'delivered', … } }]
 */
export function parseGupshup(req: RawRequest): WebhookItem[] {
  try {
    const raw = Buffer.isBuffer(req?.body) ? jsonOf(req.body) : undefined
    if (raw === undefined) return [{ kind: 'rejected', reason: 'body is not JSON' }]
    const envelope = EnvelopeSchema.safeParse(raw)
    if (!envelope.success) return [{ kind: 'rejected', reason: 'not a Gupshup v2 callback' }]
    const handler = HANDLERS[envelope.data.type]
    if (handler) return handler(envelope.data, raw)
    if (IGNORED_TYPES.has(envelope.data.type)) return [{ kind: 'ignored', reason: envelope.data.type }]
    return [{ kind: 'ignored', reason: `unknown callback type ${envelope.data.type}` }]
  } catch (err) {
    // Defence in depth: the parsers above validate everything, but a webhook must never crash the route.
    return [{ kind: 'rejected', reason: `unreadable callback: ${err instanceof Error ? err.message : 'error'}` }]
  }
}
