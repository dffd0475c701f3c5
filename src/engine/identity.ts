import { areEquivalent } from '../domain/equivalents.js'
import { digits, urn } from '../domain/phone.js'
import { topic } from '../domain/topics.js'
import { newId } from '../domain/ids.js'
import type { Tx } from '../store/db.js'
import { lockKeys } from '../store/locks.js'
import { prepared } from '../store/prepared.js'
import type { Account } from './accounts.js'
import { appendEvent, type Envelope } from './events.js'
import { mergeRoutingRefs } from './routing-refs.js'

/**
 * Identity learning (DESIGN §7): a wa_id or user id revealed by a provider joins the contact the
 * message was for. A wa_id that differs from the number is announced once with
 * `contact.wa_id_changed`: only the call that attaches the `whatsapp:` URN announces it, and the
 * URN's unique constraint makes that one call. When the revealed id already belongs to another
 * contact, the provider has just told us the two are one person, and they are merged.
 *
 * @example
 * await learnIdentity(tx, account, contactId, { waId: '553587654321', phone: '+5535987654321' }, now, envelopes)
 * // contact gets whatsapp:553587654321, envelopes gets contact.wa_id_changed
 */

/** Where identity events go: the account they concern (for the topic) and the batch's envelopes. */
export interface EventSink {
  tenantId: string
  accountName: string
  envelopes: Envelope[]
}

export const sinkOf = (account: Account, envelopes: Envelope[]): EventSink => ({ tenantId: account.row.tenant_id, accountName: account.row.name, envelopes })

export async function urnsOfContact(tx: Tx, contactId: string): Promise<string[]> {
  const rows = await tx.selectFrom('contact_urns').select('urn').where('contact_id', '=', contactId).orderBy('created_at').orderBy('id').execute()
  return rows.map((r) => r.urn)
}

export async function contactEvent(tx: Tx, sink: EventSink, contactId: string, event: string, data: Record<string, unknown>, now: number): Promise<void> {
  sink.envelopes.push(
    await appendEvent(
      tx,
      {
        tenantId: sink.tenantId,
        type: `contact.${event}`,
        topic: topic('contact', sink.accountName, event),
        account: sink.accountName,
        data: { contact: { id: contactId, urns: await urnsOfContact(tx, contactId) }, ...data },
      },
      now,
    ),
  )
}

/**
 * Folds `goneId` into `keepId`: URNs, messages and per-account state move; the gone contact stays
 * as a `merged` tombstone pointing at the survivor so its id still resolves. Blocked wins.
 */
export async function mergeContacts(tx: Tx, keepId: string, goneId: string, now: number, sink?: EventSink): Promise<void> {
  if (keepId === goneId) return
  const gone = await tx.selectFrom('contacts').selectAll().where('id', '=', goneId).executeTakeFirst()
  if (!gone) return
  await tx.updateTable('contact_urns').set({ contact_id: keepId }).where('contact_id', '=', goneId).execute()
  await tx.updateTable('messages').set({ contact_id: keepId }).where('contact_id', '=', goneId).execute()
  const theirs = await tx.selectFrom('conversations').selectAll().where('contact_id', '=', goneId).execute()
  for (const c of theirs) {
    const ours = await tx.selectFrom('conversations').selectAll().where('account_id', '=', c.account_id).where('contact_id', '=', keepId).executeTakeFirst()
    if (!ours) {
      await tx.updateTable('conversations').set({ contact_id: keepId }).where('account_id', '=', c.account_id).where('contact_id', '=', goneId).execute()
      continue
    }
    const later = (a: number | null | undefined, b: number | null | undefined) => (a == null ? (b ?? null) : b == null ? a : Math.max(Number(a), Number(b)))
    const stoppedAt = later(ours.stopped_at, c.stopped_at)
    await tx
      .updateTable('conversations')
      .set({
        last_inbound_at: later(ours.last_inbound_at, c.last_inbound_at),
        stopped_at: stoppedAt,
        stopped_reason: stoppedAt === null ? null : (ours.stopped_reason ?? c.stopped_reason ?? null),
        updated_at: now,
      })
      .where('account_id', '=', c.account_id)
      .where('contact_id', '=', keepId)
      .execute()
    await tx.deleteFrom('conversations').where('account_id', '=', c.account_id).where('contact_id', '=', goneId).execute()
  }
  await mergeRoutingRefs(tx, keepId, goneId, now) // routing (issue 5): session / next-reply refs follow the person
  if (gone.state === 'blocked') await tx.updateTable('contacts').set({ state: 'blocked', updated_at: now }).where('id', '=', keepId).execute()
  if (gone.name) await tx.updateTable('contacts').set({ name: gone.name, updated_at: now }).where('id', '=', keepId).where('name', 'is', null).execute()
  await tx.updateTable('contacts').set({ state: 'merged', merged_into: keepId, updated_at: now }).where('id', '=', goneId).execute()
  // Earlier tombstones of the gone contact now point at the survivor directly.
  await tx.updateTable('contacts').set({ merged_into: keepId }).where('merged_into', '=', goneId).execute()
  if (sink) await contactEvent(tx, sink, keepId, 'merged', { merged: goneId }, now)
}

/** The older of two contacts survives a merge (its id is the one applications have seen longest). */
export async function olderOf(tx: Tx, a: string, b: string): Promise<[keep: string, gone: string]> {
  const rows = await tx.selectFrom('contacts').select(['id', 'created_at']).where('id', 'in', [a, b]).execute()
  const ca = Number(rows.find((r) => r.id === a)?.created_at ?? 0)
  const cb = Number(rows.find((r) => r.id === b)?.created_at ?? 0)
  return ca < cb || (ca === cb && a < b) ? [a, b] : [b, a]
}

/** The advisory-lock key of a URN in a tenant (store/locks.ts): held while deciding who holds it. */
export const urnKey = (tenantId: string, value: string) => `urn:${tenantId}:${value}`

// Compiled once (store/prepared.ts): every status webhook looks up the wa_id it reveals.
const urnHolder = prepared((db, p: { tenantId: string; urn: string }) => db.selectFrom('contact_urns').select('contact_id').where('tenant_id', '=', p.tenantId).where('urn', '=', p.urn))
const insertUrn = prepared((db, p: { id: string; tenantId: string; contactId: string; urn: string; now: number }) =>
  db
    .insertInto('contact_urns')
    .values({ id: p.id, tenant_id: p.tenantId, contact_id: p.contactId, urn: p.urn, unreachable_until: null, unreachable_reason: null, created_at: p.now })
    .onConflict((oc) => oc.columns(['tenant_id', 'urn']).doNothing()),
)

export type AttachOutcome = 'added' | 'had' | 'merged'

/**
 * Puts `value` on the contact; when another contact holds it, merges the two. Returns the contact
 * that holds the URN afterwards (the survivor, after a merge).
 */
export async function attachUrn(tx: Tx, tenantId: string, contactId: string, value: string, now: number, sink?: EventSink): Promise<{ contactId: string; outcome: AttachOutcome }> {
  const holderOf = async () => (await urnHolder(tx, { tenantId, urn: value })).rows[0]
  // Every status webhook re-reveals a wa_id the contact almost always has already: one read then.
  let holder = await holderOf()
  if (!holder) {
    // PostgreSQL: wait for a concurrent resolution of this URN, then look again (no-op on SQLite).
    await lockKeys(tx, [urnKey(tenantId, value)])
    holder = await holderOf()
  }
  if (!holder) {
    const inserted = await insertUrn(tx, { id: newId('urn', now), tenantId, contactId, urn: value, now })
    if (Number(inserted.numAffectedRows ?? 0) > 0) return { contactId, outcome: 'added' }
    holder = await holderOf() // another transaction attached it in between (PostgreSQL)
  }
  if (!holder || holder.contact_id === contactId) return { contactId, outcome: 'had' }
  const [keep, gone] = await olderOf(tx, contactId, holder.contact_id)
  await mergeContacts(tx, keep, gone, now, sink)
  return { contactId: keep, outcome: 'merged' }
}

/** `contact.wa_id_changed` {phone, wa_id}: the number a business knows differs from WhatsApp's id. */
export async function announceWaId(tx: Tx, sink: EventSink, contactId: string, phone: string, waId: string, now: number): Promise<void> {
  await contactEvent(tx, sink, contactId, 'wa_id_changed', { phone, wa_id: waId }, now)
}

/** The contact's `tel:` number a wa_id stands for (equal or equivalent digits), if any. */
export async function phoneForWaId(tx: Tx, contactId: string, waId: string): Promise<string | undefined> {
  const tels = (await urnsOfContact(tx, contactId)).filter((u) => u.startsWith('tel:')).map((u) => u.slice(4))
  return tels.find((t) => digits(t) === waId) ?? tels.find((t) => areEquivalent(t, waId))
}

/**
 * Attaches ids a provider revealed for the contact. `phone` is the number the business used (the
 * message's `tel:` URN); the wa_id is announced when it differs from it. Returns the contact id
 * afterwards (it changes only when a merge folded this contact into an older one).
 */
export async function learnIdentity(
  tx: Tx,
  account: Account,
  contactId: string,
  ids: { waId?: string | undefined; userId?: string | undefined; phone?: string | undefined },
  now: number,
  envelopes: Envelope[],
): Promise<string> {
  const tenantId = account.row.tenant_id
  const sink = sinkOf(account, envelopes)
  let current = contactId
  if (ids.waId && /^\d{1,20}$/.test(ids.waId)) {
    const attached = await attachUrn(tx, tenantId, current, urn.whatsapp(ids.waId), now, sink)
    current = attached.contactId
    if (attached.outcome !== 'had' && ids.phone && digits(ids.phone) !== ids.waId) await announceWaId(tx, sink, current, ids.phone, ids.waId, now)
  }
  if (ids.userId) current = (await attachUrn(tx, tenantId, current, urn.wauser(ids.userId), now, sink)).contactId
  return current
}

// Kept for callers of the first version; the code lives with the rest of reachability.
export { markUrnUnreachable, UNREACHABLE_TTL_MS } from './reachability.js'
