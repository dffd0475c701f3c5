import type { NormalizedError } from '../domain/errors.js'
import { newId } from '../domain/ids.js'
import { digits, urn } from '../domain/phone.js'
import { topic } from '../domain/topics.js'
import type { Tx } from '../store/db.js'
import type { MessageTable } from '../store/schema.js'
import type { Account } from './accounts.js'
import { appendEvent, type Envelope } from './events.js'

/** How long a URN stays unreachable after "not on WhatsApp" (numbers are recycled after ~45 days). */
export const UNREACHABLE_TTL_MS = 45 * 24 * 3600 * 1000

/**
 * Identity learning (DESIGN §7): a wa_id or user id revealed by a provider joins the contact the
 * message was for. A wa_id that differs from the number is announced once with
 * `contact.wa_id_changed`; the insert's unique constraint is what makes it once.
 */
export async function learnIdentity(
  tx: Tx,
  account: Account,
  contactId: string,
  ids: { waId?: string | undefined; userId?: string | undefined; phone?: string | undefined },
  now: number,
  envelopes: Envelope[],
): Promise<void> {
  const tenantId = account.row.tenant_id
  const add = async (value: string) => {
    const res = await tx
      .insertInto('contact_urns')
      .values({ id: newId('urn', now), tenant_id: tenantId, contact_id: contactId, urn: value, unreachable_until: null, unreachable_reason: null, created_at: now })
      .onConflict((oc) => oc.columns(['tenant_id', 'urn']).doNothing())
      .executeTakeFirst()
    return Number(res.numInsertedOrUpdatedRows ?? 0) > 0
  }
  if (ids.waId) {
    const added = await add(urn.whatsapp(ids.waId))
    if (added && ids.phone && digits(ids.phone) !== ids.waId) {
      envelopes.push(
        await appendEvent(
          tx,
          {
            tenantId,
            type: 'contact.wa_id_changed',
            topic: topic('contact', account.row.name, 'wa_id_changed'),
            account: account.row.name,
            data: { contact: { id: contactId }, phone: ids.phone, wa_id: ids.waId },
          },
          now,
        ),
      )
    }
  }
  if (ids.userId) await add(urn.wauser(ids.userId))
}

export async function markUrnUnreachable(tx: Tx, account: Account, message: MessageTable, error: NormalizedError, now: number, envelopes: Envelope[]) {
  const until = now + UNREACHABLE_TTL_MS
  await tx
    .updateTable('contact_urns')
    .set({ unreachable_until: until, unreachable_reason: error.code })
    .where('tenant_id', '=', message.tenant_id)
    .where('urn', '=', message.urn)
    .execute()
  envelopes.push(
    await appendEvent(
      tx,
      {
        tenantId: message.tenant_id,
        type: 'contact.urn_unreachable',
        topic: topic('contact', account.row.name, 'urn_unreachable'),
        account: account.row.name,
        data: { contact: { id: message.contact_id }, urn: message.urn, reason: error.code, until: new Date(until).toISOString(), message_id: message.id },
      },
      now,
    ),
  )
}
