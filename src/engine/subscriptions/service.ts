import type { SecretBox } from '../../crypto.js'
import { newId } from '../../domain/ids.js'
import { matchTopic } from '../../domain/topics.js'
import type { Store } from '../../store/db.js'
import type { SubscriptionTable } from '../../store/schema.js'
import { ApiError } from '../api-error.js'
import type { Clock } from '../clock.js'
import { cursor } from '../events.js'
import { newDelivery } from './fanout.js'
import { assertPublicWebhook, redactUrl, sinkSettings, type CreateSubscriptionInput, type DeliveriesQuery } from './input.js'
import { newWebhookSecret } from './signing.js'
import { deliveryView, subscriptionView, type AttemptRow, type DeliveryRow, type DeliveryView, type SubscriptionView } from './views.js'

/**
 * Subscriptions as the API sees them: create (the `whsec_` secret is returned once and kept sealed),
 * list, get, delete, re-enable, the delivery log, a manual retry and a replay from a cursor. The
 * delivery itself is the dispatcher's job; `wake` tells it there is new work.
 *
 * @example
 * const subs = createSubscriptionService({ store, box, clock, wake: () => dispatcher.poke() })
 * const { subscription, secret } = await subs.create(tenantId, { url: 'https://app.example/hooks', topics: ['message.>'] })
 */
export interface SubscriptionServiceOptions {
  store: Store
  box: SecretBox
  clock: Clock
  defaults: { maxInFlight: number; timeoutMs: number }
  wake: () => void
  /** Webhook URLs may point at loopback and private addresses (WAGATE_ALLOW_PRIVATE_WEBHOOKS). */
  allowPrivateWebhooks?: boolean
}

/** Most events one replay call re-enqueues (or scans); the answer's `next_cursor` continues from there. */
export const REPLAY_MAX = 10_000
const REPLAY_SCAN_MAX = 100_000

export function createSubscriptionService(opts: SubscriptionServiceOptions) {
  const { store, box, clock } = opts

  const find = async (tenantId: string, id: string): Promise<SubscriptionTable> => {
    const row = await store.read.selectFrom('subscriptions').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst()
    if (!row) throw new ApiError('not_found', `no subscription ${id} in this tenant`)
    return row
  }

  const attemptsOf = async (deliveryIds: string[]): Promise<Map<string, AttemptRow[]>> => {
    const out = new Map<string, AttemptRow[]>()
    if (deliveryIds.length === 0) return out
    const rows = await store.read.selectFrom('delivery_attempts').selectAll().where('delivery_id', 'in', deliveryIds).orderBy('delivery_id').orderBy('attempt').execute()
    for (const r of rows) {
      const list = out.get(r.delivery_id) ?? []
      list.push(r)
      out.set(r.delivery_id, list)
    }
    return out
  }

  const deliveryRows = (subscriptionId: string) =>
    store.read
      .selectFrom('deliveries')
      .leftJoin('events', 'events.id', 'deliveries.event_id')
      .selectAll('deliveries')
      .select(['events.type as event_type', 'events.topic as event_topic'])
      .where('deliveries.subscription_id', '=', subscriptionId)

  const oneDelivery = async (tenantId: string, subscriptionId: string, deliveryId: string): Promise<DeliveryView> => {
    await find(tenantId, subscriptionId)
    const row: DeliveryRow | undefined = await deliveryRows(subscriptionId).where('deliveries.id', '=', deliveryId).executeTakeFirst()
    if (!row) throw new ApiError('not_found', `no delivery ${deliveryId} for subscription ${subscriptionId}`)
    return deliveryView(row, (await attemptsOf([row.id])).get(row.id) ?? [])
  }

  return {
    async create(tenantId: string, input: CreateSubscriptionInput): Promise<{ subscription: SubscriptionView; secret: string }> {
      // Brokers are the operator's own infrastructure, usually on a private network: only webhooks are checked.
      if (input.kind === 'webhook') assertPublicWebhook(input.url, opts.allowPrivateWebhooks ?? false, 'url')
      const secret = newWebhookSecret()
      const row = await store.write(async (tx) => {
        const now = clock.now()
        // Starts after the newest event of the log: a new subscription receives what happens from now on
        // (replay brings the past).
        const last = await tx.selectFrom('events').select((eb) => eb.fn.max('seq').as('seq')).where('tenant_id', '=', tenantId).executeTakeFirst()
        const sink = input.kind !== 'webhook'
        const values: SubscriptionTable = {
          id: newId('sub', now),
          tenant_id: tenantId,
          kind: input.kind,
          url: sink ? redactUrl(input.url) : input.url,
          topics: JSON.stringify(input.topics),
          target: sink ? JSON.stringify(sinkSettings(input, box)) : null,
          secret_sealed: box.seal(secret),
          description: input.description ?? null,
          state: 'active',
          disabled_reason: null,
          disabled_at: null,
          max_in_flight: input.max_in_flight ?? (sink ? 1 : opts.defaults.maxInFlight),
          timeout_ms: input.timeout_ms ?? opts.defaults.timeoutMs,
          cursor_seq: Number(last?.seq ?? 0),
          last_success_at: null,
          created_at: now,
          updated_at: now,
        }
        await tx.insertInto('subscriptions').values(values).execute()
        return values
      })
      return { subscription: subscriptionView(row), secret }
    },

    async list(tenantId: string): Promise<SubscriptionView[]> {
      const rows = await store.read.selectFrom('subscriptions').selectAll().where('tenant_id', '=', tenantId).orderBy('id').execute()
      return rows.map(subscriptionView)
    },

    async get(tenantId: string, id: string): Promise<SubscriptionView> {
      return subscriptionView(await find(tenantId, id))
    },

    /** Deletes the subscription with its queue and delivery log. */
    async remove(tenantId: string, id: string): Promise<void> {
      await find(tenantId, id)
      await store.write(async (tx) => {
        const ids = tx.selectFrom('deliveries').select('id').where('subscription_id', '=', id)
        await tx.deleteFrom('delivery_attempts').where('delivery_id', 'in', ids).execute()
        await tx.deleteFrom('deliveries').where('subscription_id', '=', id).execute()
        await tx.deleteFrom('subscriptions').where('id', '=', id).where('tenant_id', '=', tenantId).execute()
      })
    },

    /** Turns a disabled endpoint back on; its pending deliveries and the events since resume. */
    async enable(tenantId: string, id: string): Promise<SubscriptionView> {
      await find(tenantId, id)
      await store.write(async (tx) => {
        const now = clock.now()
        await tx.updateTable('subscriptions').set({ state: 'active', disabled_reason: null, disabled_at: null, updated_at: now }).where('id', '=', id).execute()
        await tx.updateTable('deliveries').set({ next_attempt_at: now, retry_index: 0, round_started_at: now, updated_at: now }).where('subscription_id', '=', id).where('state', '=', 'pending').execute()
      })
      opts.wake()
      return subscriptionView(await find(tenantId, id))
    },

    async deliveries(tenantId: string, id: string, q: DeliveriesQuery) {
      await find(tenantId, id)
      let query = deliveryRows(id).orderBy('deliveries.id', 'desc').limit(q.limit)
      if (q.state) query = query.where('deliveries.state', '=', q.state)
      if (q.before) query = query.where('deliveries.id', '<', q.before)
      const rows: DeliveryRow[] = await query.execute()
      const attempts = await attemptsOf(rows.map((r) => r.id))
      const last = rows[rows.length - 1]
      return {
        data: rows.map((r) => deliveryView(r, attempts.get(r.id) ?? [])),
        next_cursor: rows.length === q.limit && last ? last.id : null,
      }
    },

    delivery: oneDelivery,

    /** Attempts the delivery again now, with a fresh retry schedule. */
    async retry(tenantId: string, id: string, deliveryId: string): Promise<DeliveryView> {
      await oneDelivery(tenantId, id, deliveryId)
      await store.write(async (tx) => {
        const now = clock.now()
        await tx
          .updateTable('deliveries')
          .set({ state: 'pending', next_attempt_at: now, retry_index: 0, round_started_at: now, updated_at: now })
          .where('id', '=', deliveryId)
          .where('subscription_id', '=', id)
          // One in flight finishes first; its outcome then stands (a retry of a delivery in flight is a no-op).
          .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', now), eb('state', '!=', 'pending')]))
          .execute()
      })
      opts.wake()
      return oneDelivery(tenantId, id, deliveryId)
    },

    /**
     * Enqueues again every event after `from` (a cursor of GET /v1/events) that matches the
     * subscription, up to where the dispatcher has reached; delivered or failed ones are sent again.
     */
    async replay(tenantId: string, id: string, from: string): Promise<{ enqueued: number; next_cursor: string | null }> {
      const fromSeq = cursor.decode(from)
      if (fromSeq === undefined) throw new ApiError('invalid_cursor', 'from: use a next_cursor value returned by GET /v1/events')
      const sub = await find(tenantId, id)
      const patterns = JSON.parse(sub.topics) as string[]
      const result = await store.write(async (tx) => {
        const now = clock.now()
        const current = await tx.selectFrom('subscriptions').select('cursor_seq').where('id', '=', id).executeTakeFirst()
        const upTo = Number(current?.cursor_seq ?? 0)
        let after = fromSeq
        let enqueued = 0
        let scanned = 0
        while (enqueued < REPLAY_MAX && scanned < REPLAY_SCAN_MAX) {
          const events = await tx
            .selectFrom('events')
            .select(['seq', 'id', 'topic'])
            .where('tenant_id', '=', tenantId)
            .where('seq', '>', after)
            .where('seq', '<=', upTo)
            .orderBy('seq')
            .limit(Math.min(1_000, REPLAY_MAX - enqueued))
            .execute()
          if (events.length === 0) return { enqueued, next: undefined }
          scanned += events.length
          const matching = events.filter((e) => patterns.some((p) => matchTopic(p, e.topic)))
          for (let i = 0; i < matching.length; i += 200) {
            const rows = matching.slice(i, i + 200).map((e) => newDelivery(sub, e.id, Number(e.seq), now))
            const res = await tx
              .insertInto('deliveries')
              .values(rows)
              .onConflict((oc) =>
                oc
                  .columns(['subscription_id', 'event_id'])
                  .doUpdateSet({ state: 'pending', next_attempt_at: now, retry_index: 0, round_started_at: now, updated_at: now, delivered_at: null })
                  // A delivery still pending will go out anyway; do not disturb its schedule or lease.
                  .where('deliveries.state', '!=', 'pending'),
              )
              .executeTakeFirst()
            enqueued += Number(res.numInsertedOrUpdatedRows ?? 0)
          }
          after = Number(events[events.length - 1]?.seq ?? after)
        }
        return { enqueued, next: after }
      })
      opts.wake()
      return { enqueued: result.enqueued, next_cursor: result.next === undefined ? null : cursor.encode(result.next) }
    },
  }
}

export type SubscriptionService = ReturnType<typeof createSubscriptionService>
