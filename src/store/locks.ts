import { sql } from 'kysely'
import type { Tx } from './db.js'
import { isTracked } from './event-order.js'

/**
 * Locks for read-then-write decisions on PostgreSQL, where writes run concurrently at READ
 * COMMITTED (SQLite runs one writer at a time: there every helper here is a no-op).
 *
 * - `forUpdate(tx, query)`: lock the rows a select returns until the write commits; a concurrent
 *   writer of the same rows waits, and READ COMMITTED hands the waiter the committed row.
 * - `lockKeys(tx, keys)`: for decisions about rows that may not exist yet ("no contact holds this
 *   URN, create one"), a transaction-level advisory lock per key, taken in sorted order.
 *
 * @example
 * await lockKeys(tx, [`urn:${tenantId}:${urn}`])
 * const row = await forUpdate(tx, tx.selectFrom('messages').selectAll().where('id', '=', id)).executeTakeFirst()
 */
export function isPostgresTx(tx: Tx): boolean {
  return isTracked(tx)
}

export function forUpdate<Q extends { forUpdate(): Q }>(tx: Tx, query: Q): Q {
  return isTracked(tx) ? query.forUpdate() : query
}

/** Keys each transaction holds already (a transaction lock lasts until its commit or rollback). */
const held = new WeakMap<object, Set<string>>()

export async function lockKeys(tx: Tx, keys: readonly string[]): Promise<void> {
  if (!isTracked(tx) || keys.length === 0) return
  const mine = held.get(tx) ?? new Set<string>()
  held.set(tx, mine)
  // Sorted and deduplicated, so two writers locking overlapping keys cannot deadlock on them.
  const sorted = [...new Set(keys)].filter((k) => !mine.has(k)).sort()
  if (sorted.length === 0) return
  await sql`select pg_advisory_xact_lock(hashtextextended(k, 0)) from unnest(${sorted}::text[]) as k`.execute(tx)
  for (const k of sorted) mine.add(k)
}
