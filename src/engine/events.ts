import { EventEmitter } from 'node:events'
import { newId } from '../domain/ids.js'
import { matchTopic } from '../domain/topics.js'
import type { Store, Tx } from '../store/db.js'
import { deferEvent } from '../store/event-order.js'
import { prepared } from '../store/prepared.js'
import { iso } from './clock.js'

/**
 * The append-only event log (DESIGN §10). Events are written inside the same transaction as the
 * change they describe; `notify()` after commit wakes readers (SSE, dispatchers) in this process.
 *
 * @example
 * await appendEvent(tx, { tenantId, type: 'message.status', topic: 'message.acme.read', account: 'acme', data }, now)
 */
export interface NewEvent {
  tenantId: string
  type: string
  topic: string
  account: string | null
  data: Record<string, unknown>
}

export interface Envelope {
  id: string
  type: string
  topic: string
  created_at: string
  account: string | null
  data: Record<string, unknown>
}

type EventRow = { id: string; tenant_id: string; type: string; topic: string; account: string | null; created_at: number; data: string }
const insertEvent = prepared((db, p: EventRow) =>
  db.insertInto('events').values({ id: p.id, tenant_id: p.tenant_id, type: p.type, topic: p.topic, account: p.account, created_at: p.created_at, data: p.data }),
)

export async function appendEvent(tx: Tx, event: NewEvent, now: number): Promise<Envelope> {
  const id = newId('evt', now)
  const row: EventRow = { id, tenant_id: event.tenantId, type: event.type, topic: event.topic, account: event.account, created_at: now, data: JSON.stringify(event.data) }
  // PostgreSQL inserts the write's events at its end, under a lock, so seq grows in commit order
  // (store/event-order.ts); SQLite (one writer) inserts now.
  if (!deferEvent(tx, row)) await insertEvent(tx, row)
  return { id, type: event.type, topic: event.topic, created_at: iso(now), account: event.account, data: event.data }
}

/**
 * 'event' after commit: listeners take it as "read the log again". The envelope is absent when the
 * events were appended by another instance (a Redis notification, issue 7), so use only the log.
 */
export const eventBus = new EventEmitter()
eventBus.setMaxListeners(0)

export interface EventQuery {
  after?: string
  type?: string
  topic?: string
  limit: number
}

/** Cursors are the log sequence, opaque to callers. */
export const cursor = {
  encode: (seq: number) => Buffer.from(`s:${seq}`).toString('base64url'),
  decode(value: string): number | undefined {
    const text = Buffer.from(value, 'base64url').toString('utf8')
    const m = /^s:(\d{1,15})$/.exec(text)
    return m ? Number(m[1]) : undefined
  },
}

export async function listEvents(store: Store, tenantId: string, q: EventQuery, afterSeq: number) {
  // Topic patterns are matched in the process (NATS rules); scan in pages until the page fills.
  const out: Array<Envelope & { seq: number }> = []
  let from = afterSeq
  // Never past a seq a concurrent writer may still commit below (PostgreSQL; see Store.eventHorizon).
  const upTo = await store.eventHorizon()
  for (let page = 0; page < 20 && out.length < q.limit; page++) {
    let query = store.read
      .selectFrom('events')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('seq', '>', from)
      .where('seq', '<=', upTo)
      .orderBy('seq')
      .limit(500)
    if (q.type) query = query.where('type', '=', q.type)
    const rows = await query.execute()
    if (rows.length === 0) break
    for (const row of rows) {
      from = Number(row.seq)
      if (q.topic && !matchTopic(q.topic, row.topic)) continue
      out.push({
        seq: Number(row.seq),
        id: row.id,
        type: row.type,
        topic: row.topic,
        created_at: iso(Number(row.created_at)),
        account: row.account,
        data: JSON.parse(row.data) as Record<string, unknown>,
      })
      if (out.length >= q.limit) break
    }
    if (rows.length < 500) break
  }
  const last = out.length >= q.limit ? out[out.length - 1]?.seq : from
  return { data: out.map(({ seq: _seq, ...envelope }) => envelope), next_cursor: cursor.encode(last ?? afterSeq) }
}
