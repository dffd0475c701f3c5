import { areEquivalent, equivalentNumbers } from '../domain/equivalents.js'
import { newId } from '../domain/ids.js'
import { digits, urn } from '../domain/phone.js'
import type { ContactEvent, Party } from '../providers/types.js'
import type { Tx } from '../store/db.js'
import { lockKeys } from '../store/locks.js'
import { prepared } from '../store/prepared.js'
import type { Account } from './accounts.js'
import type { Envelope } from './events.js'
import { announceWaId, attachUrn, urnKey, contactEvent, learnIdentity, mergeContacts, olderOf, sinkOf, urnsOfContact, type EventSink } from './identity.js'
import { clearStopped, clearUnreachable, markStopped } from './reachability.js'

/**
 * Contact resolution (DESIGN §7): one person is one contact whatever URN a provider names them by.
 * Every URN is unique per tenant (a unique constraint, not a cache), so concurrent resolutions
 * converge.
 *
 * 1. The party's own URNs (`tel:`, `whatsapp:`, `wauser:`) find the contact; when they sit on
 *    several contacts, the provider has just said they are one person and they are merged.
 * 2. Otherwise an equivalent number (Brazil's ninth digit, Mexico's `1`, Argentina's `9`) among
 *    existing `tel:` / `whatsapp:` URNs finds it.
 * 3. Otherwise a contact is created.
 * Then the party's missing URNs join the contact, except a `tel:` spelled from a wa_id when the
 * contact already has that person's real number (it would be a second, invalid spelling).
 *
 * @example
 * const { contactId } = await resolveContact(tx, tenantId, { phone: '+553587654321', waId: '553587654321' }, now, { sink, inbound: true })
 * // joins the contact known as tel:+5535987654321, adds whatsapp:553587654321, emits contact.wa_id_changed
 */
export function urnsOf(party: Party): string[] {
  const out: string[] = []
  if (party.phone) out.push(urn.tel(party.phone))
  if (party.waId) out.push(urn.whatsapp(party.waId))
  if (party.userId) out.push(urn.wauser(party.userId))
  return out
}

export interface Resolved {
  contactId: string
  created: boolean
  /** URNs this call attached to the contact. */
  added: string[]
}

export interface ResolveOptions {
  /** Where contact events (wa_id_changed, merged) go; without it none are emitted. */
  sink?: EventSink | undefined
  /** The party wrote to us: its URNs are on WhatsApp, whatever an earlier failure said. */
  inbound?: boolean
}

/** URNs of the equivalent forms of the party's number and wa_id that are not the party's own. */
function equivalentUrns(party: Party, own: readonly string[]): string[] {
  const numbers = new Set<string>()
  for (const n of [party.phone, party.waId]) if (n) for (const e of equivalentNumbers(n)) numbers.add(e)
  const out = new Set<string>()
  for (const n of numbers) {
    out.add(urn.tel(n))
    out.add(urn.whatsapp(n.slice(1)))
  }
  return [...out].filter((u) => !own.includes(u))
}

const insertContact = prepared((db, p: { id: string; tenantId: string; name: string | null; now: number }) =>
  db.insertInto('contacts').values({ id: p.id, tenant_id: p.tenantId, name: p.name, state: 'active', created_at: p.now, updated_at: p.now }),
)

async function findHolders(tx: Tx, tenantId: string, urns: readonly string[]) {
  if (urns.length === 0) return []
  return tx
    .selectFrom('contact_urns')
    .innerJoin('contacts', 'contacts.id', 'contact_urns.contact_id')
    .select(['contact_urns.contact_id', 'contact_urns.urn', 'contacts.created_at'])
    .where('contact_urns.tenant_id', '=', tenantId)
    .where('contact_urns.urn', 'in', [...urns])
    .orderBy('contacts.created_at')
    .orderBy('contact_urns.contact_id')
    .execute()
}

export async function resolveContact(tx: Tx, tenantId: string, party: Party, now: number, opts: ResolveOptions = {}): Promise<Resolved | undefined> {
  const wanted = urnsOf(party)
  if (wanted.length === 0) return undefined
  // PostgreSQL: one resolution per person at a time (its URNs and their equivalents), so two
  // concurrent first messages do not create two contacts. No-op on SQLite (one writer).
  await lockKeys(tx, [...wanted, ...equivalentUrns(party, wanted)].map((u) => urnKey(tenantId, u)))
  const exact = await findHolders(tx, tenantId, wanted)
  let contactId = exact[0]?.contact_id
  for (const other of new Set(exact.map((e) => e.contact_id))) {
    if (!contactId || other === contactId) continue
    const [keep, gone] = await olderOf(tx, contactId, other)
    await mergeContacts(tx, keep, gone, now, opts.sink)
    contactId = keep
  }
  if (!contactId) {
    const similar = await findHolders(tx, tenantId, equivalentUrns(party, wanted))
    contactId = similar[0]?.contact_id
  }
  let created = false
  if (!contactId) {
    contactId = newId('ct', now)
    created = true
    await insertContact(tx, { id: contactId, tenantId, name: party.name ?? null, now })
  } else if (party.name) {
    await tx.updateTable('contacts').set({ name: party.name, updated_at: now }).where('id', '=', contactId).where('name', 'is', null).execute()
  }

  const have = await urnsOfContact(tx, contactId)
  const tels = have.filter((u) => u.startsWith('tel:')).map((u) => u.slice(4))
  const added: string[] = []
  for (const u of wanted) {
    if (have.includes(u)) continue
    const spelledFromWaId = u.startsWith('tel:') && party.waId !== undefined && digits(u) === party.waId
    if (spelledFromWaId && tels.some((t) => t !== u.slice(4) && areEquivalent(t, u.slice(4)))) continue
    const attached = await attachUrn(tx, tenantId, contactId, u, now, opts.sink)
    contactId = attached.contactId
    if (attached.outcome === 'added') added.push(u)
  }

  if (!created && opts.sink && added.length > 0) await announceLinkedWaIds(tx, opts.sink, contactId, added, now)
  if (opts.inbound) await clearUnreachable(tx, contactId, [...wanted, ...equivalentUrns(party, wanted)])
  return { contactId, created, added }
}

/**
 * An equivalent spelling just joined a number and a wa_id that differ (a new wa_id for a number the
 * business knows, or the business's number for a wa_id known from an inbound): announce the pair.
 * Each pair is announced by the call that attached one of its URNs, so once.
 */
async function announceLinkedWaIds(tx: Tx, sink: EventSink, contactId: string, added: readonly string[], now: number): Promise<void> {
  const all = await urnsOfContact(tx, contactId)
  const tels = all.filter((u) => u.startsWith('tel:')).map((u) => u.slice(4))
  const waIds = all.filter((u) => u.startsWith('whatsapp:')).map((u) => u.slice('whatsapp:'.length))
  for (const waId of waIds) {
    for (const phone of tels) {
      if (!added.includes(urn.tel(phone)) && !added.includes(urn.whatsapp(waId))) continue
      // A tel: that is only another wa_id spelled as a number is not the business's number.
      if (digits(phone) === waId || waIds.includes(digits(phone)) || !areEquivalent(phone, waId)) continue
      await announceWaId(tx, sink, contactId, phone, waId, now)
    }
  }
}

export async function contactUrns(tx: Tx, contactId: string) {
  return tx.selectFrom('contact_urns').selectAll().where('contact_id', '=', contactId).orderBy('created_at').orderBy('id').execute()
}

/**
 * A provider's contact event (DESIGN §7, §9): a new wa_id or user id joins the contact (announced
 * once), an opt-out stops the contact for this account, an opt-in clears that.
 *
 * @example
 * await applyContactEvent(tx, account, { type: 'opted_out', contact: { phone: '+14155550123' }, timestamp, raw }, now, envelopes)
 */
export async function applyContactEvent(tx: Tx, account: Account, ev: ContactEvent, now: number, envelopes: Envelope[]): Promise<void> {
  const sink = sinkOf(account, envelopes)
  const contact = await resolveContact(tx, account.row.tenant_id, ev.contact, now, { sink })
  if (!contact) return
  const party = ev.contact
  switch (ev.type) {
    case 'wa_id_changed':
      if (ev.newWaId) await learnIdentity(tx, account, contact.contactId, { waId: ev.newWaId, phone: party.phone }, now, envelopes)
      return
    case 'user_id_changed':
      if (!ev.newUserId) return
      await contactEvent(tx, sink, await learnIdentity(tx, account, contact.contactId, { userId: ev.newUserId }, now, envelopes), 'user_id_changed', { user_id: ev.newUserId, party }, now)
      return
    case 'opted_out':
      await markStopped(tx, account, contact.contactId, 'opted_out', now, envelopes, { party })
      return
    case 'opted_in':
      await clearStopped(tx, account, contact.contactId, now, envelopes, { party })
      return
  }
}
