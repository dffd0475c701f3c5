import { newId } from '../../domain/ids.js'
import { matchTopic } from '../../domain/topics.js'
import type { Tx } from '../../store/db.js'
import type { DeliveryTable, SubscriptionTable } from '../../store/schema.js'

/**
 * Fan-out: reads the event log after each active subscription's cursor (per tenant, in `seq`
 * order) and writes one delivery row per (subscription, matching event), advancing the cursors in
 * the same transaction. The queue is the store: a crash before the commit redoes the page, after it
 * loses nothing, and the unique (subscription_id, event_id) makes the redo harmless.
 *
 * Events are read up to `upTo`, the store's event horizon taken before the write: below it no
 * event can still commit (on SQLite, one writer, every seq is; on PostgreSQL see Store.eventHorizon).
 *
 * @example
 * const upTo = await store.eventHorizon()
 * const { created, more } = await store.write((tx) => fanOut(tx, clock.now(), 1_000, upTo))
 */
export async function fanOut(tx: Tx, now: number, pageSize = 1_000, upTo = Number.MAX_SAFE_INTEGER): Promise<{ created: number; more: boolean }> {
  const subs = await tx.selectFrom('subscriptions').selectAll().where('state', '=', 'active').execute()
  const byTenant = new Map<string, SubscriptionTable[]>()
  for (const sub of subs) byTenant.set(sub.tenant_id, [...(byTenant.get(sub.tenant_id) ?? []), sub])
  let created = 0
  let more = false
  for (const [tenantId, tenantSubs] of byTenant) {
    const from = Math.min(...tenantSubs.map((s) => Number(s.cursor_seq)))
    const events = await tx.selectFrom('events').select(['seq', 'id', 'topic']).where('tenant_id', '=', tenantId).where('seq', '>', from).where('seq', '<=', upTo).orderBy('seq').limit(pageSize).execute()
    const last = events[events.length - 1]
    if (!last) continue
    if (events.length === pageSize) more = true
    const rows: DeliveryTable[] = []
    for (const sub of tenantSubs) {
      const patterns = JSON.parse(sub.topics) as string[]
      const cursorSeq = Number(sub.cursor_seq)
      for (const e of events) {
        if (Number(e.seq) <= cursorSeq || !patterns.some((p) => matchTopic(p, e.topic))) continue
        rows.push(newDelivery(sub, e.id, Number(e.seq), now))
      }
    }
    for (let i = 0; i < rows.length; i += 200) {
      const res = await tx
        .insertInto('deliveries')
        .values(rows.slice(i, i + 200))
        .onConflict((oc) => oc.columns(['subscription_id', 'event_id']).doNothing())
        .executeTakeFirst()
      created += Number(res.numInsertedOrUpdatedRows ?? 0)
    }
    await tx
      .updateTable('subscriptions')
      .set({ cursor_seq: Number(last.seq) })
      .where('id', 'in', tenantSubs.map((s) => s.id))
      .where('cursor_seq', '<', Number(last.seq))
      .execute()
  }
  return { created, more }
}

export function newDelivery(sub: SubscriptionTable, eventId: string, eventSeq: number, now: number): DeliveryTable {
  return {
    id: newId('dlv', now),
    tenant_id: sub.tenant_id,
    subscription_id: sub.id,
    event_id: eventId,
    event_seq: eventSeq,
    state: 'pending',
    attempts: 0,
    retry_index: 0,
    round_started_at: now,
    next_attempt_at: now,
    lease_until: null,
    last_status: null,
    last_error: null,
    last_latency_ms: null,
    created_at: now,
    updated_at: now,
    delivered_at: null,
  }
}
