import type { Insertable, Kysely } from 'kysely'
import { sql } from 'kysely'
import type { Tx } from './db.js'
import type { Database, EventTable } from './schema.js'

/**
 * Reading the event log by `seq` without gaps on PostgreSQL.
 *
 * Readers follow the log with a cursor (`seq > last seen`). With concurrent writers a sequence
 * value can be taken by one transaction and committed after a higher one taken by another: a
 * reader that already moved past the higher one would skip the lower one forever.
 *
 * Writers: the events of a write are held back and inserted at the very end of its transaction,
 * after taking the event advisory lock in SHARED mode (transaction-level: COMMIT or ROLLBACK
 * releases it). Writers never wait for each other, so commits still group.
 * Readers: `eventHorizon()` takes the same lock EXCLUSIVELY for an instant, in its own
 * transaction. It is granted only when no writer is between taking its sequence values and
 * finishing its commit, so `max(seq)` read then is a horizon: every lower value is committed
 * (visible) or rolled back, and every later value is higher. Readers read `seq <= horizon`.
 * A waiting reader holds back new writers only until the writers already in their final step
 * commit (one insert and a commit). SQLite has one writer; nothing is deferred and the horizon
 * is unbounded there.
 *
 * @example
 * // inside the PostgreSQL store's transaction:
 * trackEvents(trx)
 * const result = await fn(trx)          // appendEvent → deferEvent(trx, row)
 * await flushEvents(trx, lockKey)       // shared lock, insert in order; the caller commits
 * // a reader:
 * const upTo = await store.eventHorizon()
 * const rows = await store.read.selectFrom('events').where('seq', '>', after).where('seq', '<=', upTo)…
 */
type EventRow = Insertable<EventTable>

const pending = new WeakMap<object, EventRow[]>()

/** Marks a transaction whose event inserts are deferred to `flushEvents`. */
export function trackEvents(tx: Tx): void {
  pending.set(tx, [])
}

/** True inside a PostgreSQL store write (its transaction is tracked here). */
export function isTracked(tx: Tx): boolean {
  return pending.has(tx)
}

/** Queues the row when `tx` defers its events; false means "insert it now" (SQLite). */
export function deferEvent(tx: Tx, row: EventRow): boolean {
  const rows = pending.get(tx)
  if (!rows) return false
  rows.push(row)
  return true
}

/** The advisory lock's two keys: a fixed class id and the schema's hash (schemas do not block each other). */
export interface EventLockKey {
  classId: number
  objectId: number
}

export async function flushEvents(tx: Tx, key: EventLockKey): Promise<void> {
  const rows = pending.get(tx)
  if (!rows || rows.length === 0) return
  pending.set(tx, [])
  await sql`select pg_advisory_xact_lock_shared(${key.classId}::int4, ${key.objectId}::int4)`.execute(tx)
  // A VALUES list is inserted row by row in order, so seq follows the append order within the write.
  for (let i = 0; i < rows.length; i += 500) await tx.insertInto('events').values(rows.slice(i, i + 500)).execute()
}

/** The highest seq below which no event can still appear (see above). */
export async function readHorizon(db: Kysely<Database>, key: EventLockKey): Promise<number> {
  return db.transaction().execute(async (trx) => {
    await sql`select pg_advisory_xact_lock(${key.classId}::int4, ${key.objectId}::int4)`.execute(trx)
    // A new statement, so a new snapshot (read committed): it sees every commit made before the lock.
    const row = await trx.selectFrom('events').select((eb) => eb.fn.max('seq').as('seq')).executeTakeFirst()
    return Number(row?.seq ?? 0)
  })
}

/**
 * Shares one horizon read among concurrent callers, but never hands a caller a read that began
 * before its call (it could miss an event committed just before the call): callers arriving while
 * a read runs share the next one.
 */
export function coalesce(read: () => Promise<number>): () => Promise<number> {
  let running: Promise<number> | undefined
  let queued: Promise<number> | undefined
  const start = (): Promise<number> => {
    running = read().finally(() => {
      running = undefined
    })
    return running
  }
  return () => {
    if (!running) return start()
    queued ??= running
      .catch(() => undefined)
      .then(() => {
        queued = undefined
        return running ?? start()
      })
    return queued
  }
}
