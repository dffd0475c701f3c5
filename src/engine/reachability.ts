import type { Kysely } from 'kysely'
import { areEquivalent } from '../domain/equivalents.js'
import type { NormalizedError } from '../domain/errors.js'
import { digits } from '../domain/phone.js'
import type { Recipient } from '../providers/types.js'
import type { Database } from '../store/schema.js'
import type { Tx } from '../store/db.js'
import { prepared } from '../store/prepared.js'
import type { ContactUrnTable, MessageTable } from '../store/schema.js'
import type { Account } from './accounts.js'
import { ApiError } from './api-error.js'
import { iso } from './clock.js'
import type { Envelope } from './events.js'
import { contactEvent, sinkOf } from './identity.js'

/**
 * Whether a contact can be messaged, and at which address (DESIGN §2, §6, §7):
 * - a URN marked unreachable (not on WhatsApp) fails sends at once until its expiry, then one send
 *   is tried again (WhatsApp recycles numbers after ~45 days);
 * - `stopped` is the contact's choice (opt-out), per account; an opt-in clears it;
 * - `blocked` is the business's choice, for the whole tenant. The two are kept apart.
 *
 * @example
 * await assertSendable(tx, tenantId, account.row.id, contactId) // throws ApiError contact_blocked / recipient_opted_out
 * const to = await recipientOf(store.read, message, now)          // Recipient, or a NormalizedError to fail with
 */

/** How long a URN stays unreachable after "not on WhatsApp" (numbers are recycled after ~45 days). */
export const UNREACHABLE_TTL_MS = 45 * 24 * 3600 * 1000

type Db = Kysely<Database>
type UrnRow = Pick<ContactUrnTable, 'urn' | 'unreachable_until' | 'unreachable_reason'>

function splitUrn(u: string): [string, string] {
  const i = u.indexOf(':')
  return [u.slice(0, i), u.slice(i + 1)]
}

/**
 * The address to send to for a message URN, given the contact's URNs: a `tel:` goes with the
 * wa_id WhatsApp knows that number by (an equivalent spelling first, then equal digits; or the
 * contact's only wa_id when it has a single number), so Brazil's and Mexico's numbers reach the
 * person. Pure.
 *
 * @example
 * wireRecipient([{ urn: 'tel:+5535987654321' }, { urn: 'whatsapp:553587654321' }], 'tel:+5535987654321', now)
 * // { phone: '+5535987654321', waId: '553587654321' }
 */
export function wireRecipient(urns: readonly UrnRow[], messageUrn: string, now: number): Recipient | NormalizedError {
  const target = urns.find((u) => u.urn === messageUrn)
  if (target?.unreachable_until && Number(target.unreachable_until) > now) {
    return {
      code: 'recipient_not_on_whatsapp',
      retryable: false,
      provider_message: `marked unreachable until ${iso(Number(target.unreachable_until))} (${target.unreachable_reason ?? 'not on WhatsApp'}); no provider call was made`,
    }
  }
  const [scheme, value] = splitUrn(messageUrn)
  if (scheme === 'wauser') return { userId: value }
  if (scheme === 'whatsapp') return { waId: value }
  const waIds = urns.filter((u) => u.urn.startsWith('whatsapp:')).map((u) => u.urn.slice('whatsapp:'.length))
  const tels = urns.filter((u) => u.urn.startsWith('tel:'))
  // A wa_id that differs from the number was revealed by WhatsApp; one equal to it may only echo the number.
  const waId =
    waIds.find((w) => w !== digits(value) && areEquivalent(value, w)) ??
    waIds.find((w) => w === digits(value)) ??
    (waIds.length === 1 && tels.length <= 1 ? waIds[0] : undefined)
  return { phone: value, ...(waId ? { waId } : {}) }
}

interface SendBlock {
  code: 'contact_blocked' | 'recipient_opted_out'
  detail: string
}

// Compiled once (store/prepared.ts): every accepted message and every send reads these.
const contactStateFor = prepared((db, p: { accountId: string; contactId: string }) =>
  db
    .selectFrom('contacts')
    .leftJoin('conversations', (join) => join.onRef('conversations.contact_id', '=', 'contacts.id').on('conversations.account_id', '=', p.accountId))
    .select(['contacts.state', 'conversations.stopped_at', 'conversations.stopped_reason'])
    .where('contacts.id', '=', p.contactId),
)
const contactOfTenant = prepared((db, p: { tenantId: string; contactId: string }) => db.selectFrom('contacts').select('id').where('tenant_id', '=', p.tenantId).where('id', '=', p.contactId))
const urnsOfContact = prepared((db, p: { contactId: string }) => db.selectFrom('contact_urns').select(['urn', 'unreachable_until', 'unreachable_reason']).where('contact_id', '=', p.contactId))

async function sendBlock(db: Db | Tx, accountId: string, contactId: string): Promise<SendBlock | undefined> {
  // One read on the hot path: the contact's state and this account's opt-out together.
  const contact = (await contactStateFor(db, { accountId, contactId })).rows[0]
  if (contact?.state === 'blocked') {
    return { code: 'contact_blocked', detail: `contact ${contactId} is blocked; POST /v1/contacts/${contactId}/unblock to message it again` }
  }
  const conversation = contact
  if (conversation?.stopped_at != null) {
    return {
      code: 'recipient_opted_out',
      detail: `contact ${contactId} opted out of this account at ${iso(Number(conversation.stopped_at))} (${conversation.stopped_reason ?? 'opt-out'}); it can be messaged again after it opts in`,
    }
  }
  return undefined
}

/**
 * Refuses a send at accept time when the business blocked the contact (`contact_blocked`) or the
 * contact opted out of this account (`recipient_opted_out`). Call inside the accept transaction.
 */
export async function assertSendable(db: Db | Tx, tenantId: string, accountId: string, contactId: string | undefined | null): Promise<void> {
  if (!contactId) return
  const owned = (await contactOfTenant(db, { tenantId, contactId })).rows[0]
  if (!owned) return
  const block = await sendBlock(db, accountId, contactId)
  if (block) throw new ApiError(block.code, block.detail)
}

/**
 * What the outbox sends a message to, read just before the provider call: a Recipient, or the
 * normalized error to fail it with at once (unreachable URN, blocked or stopped contact).
 */
export async function recipientOf(db: Db | Tx, message: Pick<MessageTable, 'account_id' | 'contact_id' | 'urn'>, now: number, channel = 'whatsapp'): Promise<Recipient | NormalizedError> {
  if (!message.contact_id) return wireRecipient([], message.urn, now)
  const block = await sendBlock(db, message.account_id, message.contact_id)
  if (block) return { code: block.code, retryable: false, provider_message: `${block.detail}; no provider call was made` }
  const urns = (await urnsOfContact(db, { contactId: message.contact_id })).rows
  // "Not on WhatsApp" says nothing about SMS: an SMS account (a rule's fallback) sends to a marked number.
  return wireRecipient(channel === 'sms' ? urns.map((u) => ({ ...u, unreachable_until: null })) : urns, message.urn, now)
}

/**
 * Marks the message's URN unreachable until now + 45 days and emits `contact.urn_unreachable`.
 * A URN already unreachable is left alone: a send failed fast by that mark neither extends it nor
 * announces it again.
 */
export async function markUrnUnreachable(tx: Tx, account: Account, message: MessageTable, error: NormalizedError, now: number, envelopes: Envelope[]): Promise<void> {
  const row = await tx.selectFrom('contact_urns').select(['contact_id', 'unreachable_until']).where('tenant_id', '=', message.tenant_id).where('urn', '=', message.urn).executeTakeFirst()
  if (!row || (row.unreachable_until != null && Number(row.unreachable_until) > now)) return
  const until = now + UNREACHABLE_TTL_MS
  const reason = error.provider_code ? `${error.code} (${error.provider_code})` : error.code
  await tx.updateTable('contact_urns').set({ unreachable_until: until, unreachable_reason: reason }).where('tenant_id', '=', message.tenant_id).where('urn', '=', message.urn).execute()
  await contactEvent(tx, sinkOf(account, envelopes), row.contact_id, 'urn_unreachable', { urn: message.urn, reason, until: iso(until), message_id: message.id }, now)
}

/** An inbound message proves the contact's URNs it came from (and their equivalents) are on WhatsApp again. */
export async function clearUnreachable(tx: Tx, contactId: string, urns: readonly string[]): Promise<void> {
  if (urns.length === 0) return
  await tx.updateTable('contact_urns').set({ unreachable_until: null, unreachable_reason: null }).where('contact_id', '=', contactId).where('urn', 'in', [...urns]).where('unreachable_until', 'is not', null).execute()
}

/**
 * Sets the contact stopped for the account (opt-out) and emits `contact.opted_out`, once: a contact
 * already stopped changes nothing.
 */
export async function markStopped(tx: Tx, account: Account, contactId: string, reason: string, now: number, envelopes: Envelope[], extra: Record<string, unknown> = {}): Promise<boolean> {
  const current = await tx.selectFrom('conversations').select('stopped_at').where('account_id', '=', account.row.id).where('contact_id', '=', contactId).executeTakeFirst()
  if (current?.stopped_at != null) return false
  await tx
    .insertInto('conversations')
    .values({ account_id: account.row.id, contact_id: contactId, last_inbound_at: null, updated_at: now, stopped_at: now, stopped_reason: reason })
    .onConflict((oc) => oc.columns(['account_id', 'contact_id']).doUpdateSet({ stopped_at: now, stopped_reason: reason, updated_at: now }))
    .execute()
  await contactEvent(tx, sinkOf(account, envelopes), contactId, 'opted_out', { reason, ...extra }, now)
  return true
}

/** Clears an opt-out for the account and emits `contact.opted_in` (always: an opt-in is news even without a stop). */
export async function clearStopped(tx: Tx, account: Account, contactId: string, now: number, envelopes: Envelope[], extra: Record<string, unknown> = {}): Promise<void> {
  await tx.updateTable('conversations').set({ stopped_at: null, stopped_reason: null, updated_at: now }).where('account_id', '=', account.row.id).where('contact_id', '=', contactId).execute()
  await contactEvent(tx, sinkOf(account, envelopes), contactId, 'opted_in', extra, now)
}

/**
 * What a failed send teaches about the contact: not on WhatsApp marks the URN unreachable, an
 * opt-out stops the contact for the account. Call once per message failure (when the status
 * changed), from the worker and from failed status webhooks alike.
 */
export async function onSendFailure(tx: Tx, account: Account, message: MessageTable, error: NormalizedError, now: number, envelopes: Envelope[]): Promise<void> {
  if (error.code === 'recipient_not_on_whatsapp') await markUrnUnreachable(tx, account, message, error, now, envelopes)
  if (error.code === 'recipient_opted_out' && message.contact_id) {
    const reason = error.provider_code ? `${error.code} (${error.provider_code})` : error.code
    await markStopped(tx, account, message.contact_id, reason, now, envelopes, { message_id: message.id })
  }
}
