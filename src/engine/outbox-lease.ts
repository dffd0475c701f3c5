import type { ExpressionBuilder, SelectQueryBuilder } from 'kysely'
import type { Tx } from '../store/db.js'
import { isPostgresTx } from '../store/locks.js'
import type { Database, MessageTable } from '../store/schema.js'
import { fairQuotas } from './fair-share.js'

/**
 * One lease round of the outbox worker: which due jobs it takes, fairly across accounts
 * (fair-share.ts), and the lease it writes on them.
 *
 * Two queries: the accounts that have due, unheld jobs (an index probe per account on
 * `outbox(account_id, run_at)`), then for each account dealt a quota its earliest due jobs, up to
 * that quota, in one `UNION ALL`. On PostgreSQL the outer select locks them `FOR UPDATE SKIP
 * LOCKED`, and the lease `UPDATE` repeats the due-and-unheld test as a statement of its own on the
 * rows it holds, so a row another worker leased meanwhile is not leased twice.
 *
 * @example
 * const jobs = await leaseRound(tx, { now, owner, leaseMs: 60_000, free: 64, concurrency: 256, inflight, start: round++, ours })
 */
export interface LeasedJob {
  message: MessageTable
  attempts: number
  /** Leased again after another lease expired without an outcome: the send may already have gone out. */
  takenOver: boolean
  /** The lease's end as last written (gateway clock); the worker sets 0 once another worker holds the job. */
  leaseUntil: number
}

export interface LeaseRound {
  now: number
  owner: string
  leaseMs: number
  /** Slots free in this worker. */
  free: number
  concurrency: number
  /** Jobs this worker holds per account id. */
  inflight: ReadonlyMap<string, number>
  /** Rotates which account is dealt first. */
  start: number
  /** Jobs still queued in this worker, or failed here before reaching the adapter: not a takeover. */
  ours: (messageId: string) => boolean
}

/** Most accounts served in one round (SQLite caps a compound select at 500 terms); the rest come next round. */
const MAX_ACCOUNTS_PER_ROUND = 100

type OutboxQuery<O> = SelectQueryBuilder<Database & { i: Database['outbox'] }, 'i', O>

export async function leaseRound(tx: Tx, round: LeaseRound): Promise<LeasedJob[]> {
  const { now, owner } = round
  const pg = isPostgresTx(tx)
  const dueAndFree = <O>(q: OutboxQuery<O>) => q.where((eb) => isDueAndFree(eb, now))

  const active = await tx
    .selectFrom('accounts')
    .select(['accounts.id', 'accounts.rate_limit'])
    .where(({ exists, selectFrom }) => exists(dueAndFree(selectFrom('outbox as i').select('i.message_id').whereRef('i.account_id', '=', 'accounts.id'))))
    .orderBy('accounts.id')
    .execute()
  if (active.length === 0) return []
  const quotas = fairQuotas(
    active.map((a) => ({ id: a.id, ratePerSec: a.rate_limit, inflight: round.inflight.get(a.id) ?? 0 })),
    { free: round.free, concurrency: round.concurrency, start: round.start },
  )
  const dealt = [...quotas].slice(0, MAX_ACCOUNTS_PER_ROUND)
  if (dealt.length === 0) return []

  const earliest = (accountId: string, quota: number) =>
    dueAndFree(tx.selectFrom('outbox as i').select('i.message_id').where('i.account_id', '=', accountId))
      // PostgreSQL: several workers lease at once. A job waits while an earlier job of its recipient
      // is still in the outbox and not held by this worker: in-process chains keep order per
      // recipient, but only within one process.
      .$if(pg, (q) => q.where(({ not, exists, selectFrom }) => not(exists(earlierOfRecipientNotOurs(selectFrom, owner, now)))))
      .orderBy('i.run_at')
      .orderBy('i.message_id')
      .limit(quota)
  // Each term wrapped in a subselect: SQLite refuses ORDER BY / LIMIT on a bare UNION term.
  const term = (accountId: string, quota: number, n: number) => tx.selectFrom(earliest(accountId, quota).as(`t${n}`)).select(`t${n}.message_id`)
  const [first, ...rest] = dealt.map(([id, quota], n) => term(id, quota, n))
  const union = rest.reduce((u, t) => u.unionAll(t), first as NonNullable<typeof first>)

  const due = await tx
    .selectFrom('outbox as i')
    .select(['i.message_id', 'i.attempts', 'i.lease_owner', 'i.run_at'])
    .where('i.message_id', 'in', union)
    .$call(dueAndFree)
    .$if(pg, (q) => q.forUpdate().skipLocked())
    .execute()
  if (due.length === 0) return []

  const leaseUntil = now + round.leaseMs
  // The lease is written only where the row is still due and free as this statement sees it: on
  // PostgreSQL a new statement reads the latest committed row, and the rows are ours (locked by the
  // select above) until commit. So no lease rests on the select's re-check of a row that another
  // worker leased between the select's snapshot and its lock alone.
  const leasedIds = new Set(
    (
      await tx
        .updateTable('outbox as i')
        .set({ lease_owner: owner, lease_until: leaseUntil })
        .where(
          'i.message_id',
          'in',
          due.map((d) => d.message_id),
        )
        .where((eb) => isDueAndFree(eb, now))
        .returning('message_id')
        .execute()
    ).map((r) => r.message_id),
  )
  const leased = due.filter((d) => leasedIds.has(d.message_id))
  if (leased.length === 0) return []
  const ids = leased.map((d) => d.message_id)
  // An expired lease with no outcome recorded: its holder (killed, or stalled past the lease) may
  // have handed the job to the provider already, so this send may be a duplicate — count it.
  const takenOver = new Set(leased.filter((d) => d.lease_owner !== null && !(d.lease_owner === owner && round.ours(d.message_id))).map((d) => d.message_id))
  if (takenOver.size > 0) {
    await tx.updateTable('messages').set((eb) => ({ duplicate_risk: eb('duplicate_risk', '+', 1) })).where('id', 'in', [...takenOver]).execute()
  }
  const messages = await tx.selectFrom('messages').selectAll().where('id', 'in', ids).execute()
  const byId = new Map(messages.map((m) => [m.id, m]))
  // Due first, as before fair leasing: each recipient's chain starts its jobs in this order.
  leased.sort((a, b) => a.run_at - b.run_at || (a.message_id < b.message_id ? -1 : a.message_id > b.message_id ? 1 : 0))
  return leased.flatMap((d) => {
    const message = byId.get(d.message_id)
    return message ? [{ message, attempts: d.attempts, takenOver: takenOver.has(d.message_id), leaseUntil }] : []
  })
}

/** Due by `now` and held by no live lease. */
function isDueAndFree(eb: ExpressionBuilder<Database & { i: Database['outbox'] }, 'i'>, now: number) {
  return eb.and([eb('i.run_at', '<=', now), eb.or([eb('i.lease_until', 'is', null), eb('i.lease_until', '<', now)])])
}

function earlierOfRecipientNotOurs(selectFrom: ExpressionBuilder<Database & { i: Database['outbox'] }, 'i'>['selectFrom'], owner: string, now: number) {
  return selectFrom('outbox as earlier')
    .select('earlier.message_id')
    .whereRef('earlier.account_id', '=', 'i.account_id')
    .whereRef('earlier.recipient', '=', 'i.recipient')
    .whereRef('earlier.message_id', '<', 'i.message_id')
    .where((eb) => eb.or([eb('earlier.lease_owner', 'is', null), eb('earlier.lease_owner', '!=', owner), eb('earlier.lease_until', '<', now)]))
}
