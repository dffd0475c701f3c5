import type { Store, Tx } from '../../store/db.js'
import { forUpdate, isPostgresTx } from '../../store/locks.js'
import type { DeliveryTable, SubscriptionTable } from '../../store/schema.js'
import type { EventRow } from './envelope.js'
import type { Envelope } from '../events.js'
import { disableSubscription } from './disable.js'
import { retryDelay } from './schedule.js'

/**
 * The durable delivery queue: which deliveries are due, leasing them (per endpoint, up to its free
 * slots, so a slow endpoint only ever holds its own slots), and recording each attempt's outcome
 * with the next step of the retry schedule.
 *
 * @example
 * const jobs = await store.write((tx) => leaseDue(tx, now, [{ subscriptionId, slots: 4 }]))
 * await store.write((tx) => recordOutcome(tx, job, outcome, schedule, now))
 */
export interface Job {
  delivery: DeliveryTable
  sub: SubscriptionTable
  event: EventRow | undefined
}

export interface Outcome {
  /** A broker acknowledged the message (sinks have no HTTP status). */
  ok?: boolean
  status?: number
  error?: string
  aborted?: boolean
  latencyMs: number
  excerpt?: string
}

/** Leases must outlive the attempt: its timeout plus room to record the outcome. */
const LEASE_MARGIN_MS = 30_000

/**
 * Endpoints with due work, and how many requests each allows at once. One index probe per active
 * subscription (EXISTS), not a scan of every pending delivery: with a large backlog this query
 * runs after each finished attempt.
 */
export async function endpointsWithDueWork(store: Store, now: number, exclude: string[]): Promise<Array<{ id: string; maxInFlight: number }>> {
  let q = store.read
    .selectFrom('subscriptions')
    .select(['subscriptions.id', 'subscriptions.max_in_flight'])
    .where('subscriptions.state', '=', 'active')
    .where((eb) =>
      eb.exists(
        eb
          .selectFrom('deliveries')
          .select('deliveries.id')
          .whereRef('deliveries.subscription_id', '=', 'subscriptions.id')
          .where('deliveries.state', '=', 'pending')
          .where('deliveries.next_attempt_at', '<=', now)
          .where((w) => w.or([w('deliveries.lease_until', 'is', null), w('deliveries.lease_until', '<', now)])),
      ),
    )
  if (exclude.length > 0) q = q.where('subscriptions.id', 'not in', exclude)
  const rows = await q.execute()
  return rows.map((r) => ({ id: r.id, maxInFlight: Number(r.max_in_flight) }))
}

/** When the next retry falls due (endpoints at their limit left out: a finished attempt wakes us). */
export async function nextDueAt(store: Store, exclude: string[]): Promise<number | undefined> {
  let q = store.read
    .selectFrom('deliveries')
    .innerJoin('subscriptions', 'subscriptions.id', 'deliveries.subscription_id')
    .select((eb) => eb.fn.min('deliveries.next_attempt_at').as('at'))
    .where('subscriptions.state', '=', 'active')
    .where('deliveries.state', '=', 'pending')
    .where('deliveries.lease_until', 'is', null)
  if (exclude.length > 0) q = q.where('subscriptions.id', 'not in', exclude)
  const row = await q.executeTakeFirst()
  return row?.at === null || row?.at === undefined ? undefined : Number(row.at)
}

export async function leaseDue(tx: Tx, now: number, wanted: Array<{ subscriptionId: string; slots: number }>): Promise<Job[]> {
  const jobs: Job[] = []
  for (const { subscriptionId, slots } of wanted) {
    if (slots <= 0) continue
    const sub = await tx.selectFrom('subscriptions').selectAll().where('id', '=', subscriptionId).where('state', '=', 'active').executeTakeFirst()
    if (!sub) continue
    const due = await tx
      .selectFrom('deliveries')
      .selectAll()
      .where('subscription_id', '=', subscriptionId)
      .where('state', '=', 'pending')
      .where('next_attempt_at', '<=', now)
      .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', now)]))
      .orderBy('next_attempt_at')
      .orderBy('event_seq')
      .limit(slots)
      // PostgreSQL: dispatchers of several processes lease at once; each claims rows not locked by another.
      .$if(isPostgresTx(tx), (q) => q.forUpdate().skipLocked())
      .execute()
    if (due.length === 0) continue
    const leaseUntil = now + Number(sub.timeout_ms) + LEASE_MARGIN_MS
    await tx.updateTable('deliveries').set({ lease_until: leaseUntil }).where('id', 'in', due.map((d) => d.id)).execute()
    const events = await tx.selectFrom('events').selectAll().where('id', 'in', due.map((d) => d.event_id)).execute()
    const byId = new Map(events.map((e) => [e.id, e]))
    for (const d of due) jobs.push({ delivery: { ...d, lease_until: leaseUntil }, sub, event: byId.get(d.event_id) })
  }
  return jobs
}

export type Verdict = 'delivered' | 'retry' | 'failed' | 'gone' | 'released' | 'stale'

/**
 * Records one attempt. 2xx delivers; 410 disables the endpoint; anything else (3xx included:
 * redirects are not followed) waits for the next interval of the schedule, and past its end the
 * delivery fails and the endpoint is disabled unless it has succeeded since this round began.
 */
export async function recordOutcome(tx: Tx, job: Job, outcome: Outcome, schedule: readonly number[], now: number, events: Envelope[]): Promise<Verdict> {
  const current = await forUpdate(tx, tx.selectFrom('deliveries').selectAll().where('id', '=', job.delivery.id)).executeTakeFirst()
  // Deleted, retried or replayed meanwhile: that newer request stands.
  if (!current || current.state !== 'pending' || Number(current.lease_until) !== Number(job.delivery.lease_until)) return 'stale'
  if (outcome.aborted) {
    await tx.updateTable('deliveries').set({ lease_until: null, next_attempt_at: now, updated_at: now }).where('id', '=', current.id).execute()
    return 'released'
  }
  const attempt = Number(current.attempts) + 1
  await tx
    .insertInto('delivery_attempts')
    .values({ delivery_id: current.id, attempt, at: now - outcome.latencyMs, status_code: outcome.status ?? null, latency_ms: outcome.latencyMs, error: outcome.error ?? null, response_excerpt: outcome.excerpt ?? null })
    .execute()
  const status = outcome.status
  const base = { attempts: attempt, last_status: status ?? null, last_error: outcome.error ?? null, last_latency_ms: outcome.latencyMs, lease_until: null, updated_at: now }
  if (outcome.ok || (status !== undefined && status >= 200 && status < 300)) {
    await tx.updateTable('deliveries').set({ ...base, state: 'delivered', delivered_at: now }).where('id', '=', current.id).execute()
    await tx.updateTable('subscriptions').set({ last_success_at: now }).where('id', '=', job.sub.id).execute()
    return 'delivered'
  }
  const error = outcome.error ?? (status !== undefined && status >= 300 && status < 400 ? `HTTP ${status}: redirects are not followed` : `HTTP ${status ?? '?'}`)
  if (status === 410) {
    await tx.updateTable('deliveries').set({ ...base, last_error: error, state: 'failed' }).where('id', '=', current.id).execute()
    const disabled = await disableSubscription(tx, job.sub, 'the endpoint answered 410 Gone', now)
    if (disabled) events.push(disabled)
    return 'gone'
  }
  const delay = retryDelay(schedule, Number(current.retry_index))
  if (delay !== undefined) {
    await tx
      .updateTable('deliveries')
      .set({ ...base, last_error: error, next_attempt_at: now + delay, retry_index: Number(current.retry_index) + 1 })
      .where('id', '=', current.id)
      .execute()
    return 'retry'
  }
  await tx.updateTable('deliveries').set({ ...base, last_error: error, state: 'failed' }).where('id', '=', current.id).execute()
  const sub = await tx.selectFrom('subscriptions').selectAll().where('id', '=', job.sub.id).executeTakeFirst()
  if (sub && (sub.last_success_at === null || Number(sub.last_success_at) < Number(current.round_started_at))) {
    const disabled = await disableSubscription(tx, sub, `a delivery failed ${Number(current.retry_index) + 1} times over the whole retry schedule (last: ${error})`, now)
    if (disabled) events.push(disabled)
  }
  return 'failed'
}
