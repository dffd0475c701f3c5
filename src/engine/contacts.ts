import { newId } from '../domain/ids.js'
import { urn } from '../domain/phone.js'
import type { Party } from '../providers/types.js'
import type { Tx } from '../store/db.js'

/**
 * Contact resolution: one person is one contact whatever URN a provider names them by. Every URN
 * is unique per tenant (a unique constraint, not a cache), so concurrent resolutions converge.
 *
 * @example
 * const { contactId } = await resolveContact(tx, tenantId, { phone: '+5535987654321', waId: '553587654321' }, now)
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

export async function resolveContact(tx: Tx, tenantId: string, party: Party, now: number): Promise<Resolved | undefined> {
  const wanted = urnsOf(party)
  if (wanted.length === 0) return undefined
  const existing = await tx
    .selectFrom('contact_urns')
    .select(['contact_id', 'urn', 'created_at'])
    .where('tenant_id', '=', tenantId)
    .where('urn', 'in', wanted)
    .orderBy('created_at')
    .execute()
  let contactId = existing[0]?.contact_id
  let created = false
  if (!contactId) {
    contactId = newId('ct', now)
    created = true
    await tx
      .insertInto('contacts')
      .values({ id: contactId, tenant_id: tenantId, name: party.name ?? null, state: 'active', created_at: now, updated_at: now })
      .execute()
  } else if (party.name) {
    await tx.updateTable('contacts').set({ name: party.name, updated_at: now }).where('id', '=', contactId).where('name', 'is', null).execute()
  }
  const have = new Set(existing.map((e) => e.urn))
  const added: string[] = []
  for (const u of wanted) {
    if (have.has(u)) continue
    const inserted = await tx
      .insertInto('contact_urns')
      .values({ id: newId('urn', now), tenant_id: tenantId, contact_id: contactId, urn: u, unreachable_until: null, unreachable_reason: null, created_at: now })
      .onConflict((oc) => oc.columns(['tenant_id', 'urn']).doNothing())
      .executeTakeFirst()
    if (Number(inserted.numInsertedOrUpdatedRows ?? 0) > 0) added.push(u)
  }
  return { contactId, created, added }
}

export async function contactUrns(tx: Tx, contactId: string) {
  return tx.selectFrom('contact_urns').selectAll().where('contact_id', '=', contactId).orderBy('created_at').execute()
}
