import { topic } from '../../domain/topics.js'
import type { Tx } from '../../store/db.js'
import type { SubscriptionTable } from '../../store/schema.js'
import { appendEvent, type Envelope } from '../events.js'

/**
 * Turns an endpoint off (410 Gone, or a delivery failed past the whole schedule with no success
 * since) and records `subscription.disabled` in the same transaction, so other subscribers and the
 * SSE stream learn of it. Returns undefined when it was not active any more.
 *
 * @example
 * const event = await disableSubscription(tx, sub, 'the endpoint answered 410 Gone', now)
 */
export async function disableSubscription(tx: Tx, sub: SubscriptionTable, reason: string, now: number): Promise<Envelope | undefined> {
  const result = await tx
    .updateTable('subscriptions')
    .set({ state: 'disabled', disabled_reason: reason, disabled_at: now, updated_at: now })
    .where('id', '=', sub.id)
    .where('state', '=', 'active')
    .executeTakeFirst()
  if (Number(result.numUpdatedRows) === 0) return undefined
  return appendEvent(
    tx,
    {
      tenantId: sub.tenant_id,
      type: 'subscription.disabled',
      topic: topic('subscription', sub.id, 'disabled'),
      account: null,
      data: { subscription: { id: sub.id, kind: sub.kind, url: sub.url, topics: JSON.parse(sub.topics) as string[] }, reason },
    },
    now,
  )
}
