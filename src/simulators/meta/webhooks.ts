import { createHmac, randomBytes } from 'node:crypto'
import type { OutgoingWebhook } from '../shared/webhook-poster.js'
import { undeliverableError } from './graph-errors.js'
import type { MetaSimAccount } from './types.js'

/**
 * Webhook payloads in the envelope of meta.md §2.3, signed per §2.2.
 */

export type StatusName = 'sent' | 'delivered' | 'read' | 'failed'

/** What a status webhook needs to know about the send it reports. */
export interface StatusSubject {
  wamid: string
  /** wa_id for a phone send, the BSUID for a `recipient` send. */
  recipientId: string
  recipientKind: 'phone' | 'bsuid'
  bizOpaque?: string
  /** Pricing category (`service` for free-form replies, the template's category otherwise). */
  category: string
  /** Conversation id shared by the sent and delivered statuses of one send. */
  conversationId: string
  /** Whether `conversation` is included (meta.md §2.6: omitted from v24.0 on). */
  withConversation: boolean
  /** The `errors[]` entry of a `failed` status (default: 131026, not on WhatsApp). */
  failure?: ReturnType<typeof undeliverableError>
}

/** `entry[0].id` for an account: its WABA id, or one derived from the phone number id. */
export function wabaIdOf(account: MetaSimAccount): string {
  return account.wabaId ?? `1${account.phoneNumberId}`
}

/**
 * Wraps a change value in the `whatsapp_business_account` envelope.
 *
 * @example
 * envelope(account, { statuses: [status] }) // { object, entry: [{ id, changes: [{ field: 'messages', value }] }] }
 */
export function envelope(account: MetaSimAccount, value: Record<string, unknown>): Record<string, unknown> {
  return {
    object: 'whatsapp_business_account',
    entry: [
      {
        id: wabaIdOf(account),
        changes: [
          {
            value: {
              messaging_product: 'whatsapp',
              metadata: { display_phone_number: account.displayPhoneNumber, phone_number_id: account.phoneNumberId },
              ...value,
            },
            field: 'messages',
          },
        ],
      },
    ],
  }
}

/**
 * `sha256=` + lowercase hex HMAC-SHA256 of the exact body bytes, keyed by the app secret.
 *
 * @example
 * headers['x-hub-signature-256'] = signBody(body, account.appSecret)
 */
export function signBody(body: string, appSecret: string): string {
  return `sha256=${createHmac('sha256', appSecret).update(body, 'utf8').digest('hex')}`
}

/** A signed POST of `payload` to the account's webhook URL, ready for the poster. */
export function signedWebhook(account: MetaSimAccount, payload: Record<string, unknown>): OutgoingWebhook {
  const body = JSON.stringify(payload)
  return {
    url: account.webhookUrl,
    headers: {
      'content-type': 'application/json',
      'x-hub-signature-256': signBody(body, account.appSecret),
      'user-agent': 'facebookexternalua',
    },
    body,
  }
}

/** Unix seconds as a string, the way Meta writes `timestamp`. */
export function secondsString(ms: number): string {
  return String(Math.floor(ms / 1000))
}

/**
 * One `statuses[]` entry (meta.md §2.6). Pricing (PMP) rides on `sent` and `delivered`; `failed`
 * carries the subject's failure (131026 unless it says otherwise).
 */
export function statusEntry(subject: StatusSubject, status: StatusName, atMs: number): Record<string, unknown> {
  const entry: Record<string, unknown> = { id: subject.wamid, status, timestamp: secondsString(atMs) }
  if (subject.recipientKind === 'phone') entry.recipient_id = subject.recipientId
  else entry.recipient_user_id = subject.recipientId
  if (subject.bizOpaque !== undefined) entry.biz_opaque_callback_data = subject.bizOpaque
  if (status === 'sent' || status === 'delivered') {
    if (subject.withConversation) {
      entry.conversation = {
        id: subject.conversationId,
        expiration_timestamp: secondsString(atMs + 24 * 3600_000),
        origin: { type: subject.category },
      }
    }
    entry.pricing = {
      billable: subject.category !== 'service',
      pricing_model: 'PMP',
      type: subject.category === 'service' ? 'free_customer_service' : 'regular',
      category: subject.category,
    }
  }
  if (status === 'failed') entry.errors = [subject.failure ?? undeliverableError()]
  return entry
}

/** The value of a status webhook: BSUID sends name the contact by `user_id` (meta.md §2.4, §6). */
export function statusValue(subject: StatusSubject, status: StatusName, atMs: number): Record<string, unknown> {
  const value: Record<string, unknown> = {}
  if (subject.recipientKind === 'bsuid') value.contacts = [{ user_id: subject.recipientId }]
  value.statuses = [statusEntry(subject, status, atMs)]
  return value
}

/** A new conversation id (32 hex characters, like the fixtures). */
export function newConversationId(): string {
  return randomBytes(16).toString('hex')
}
