import { createHash } from 'node:crypto'
import type { Store, Tx } from '../store/db.js'
import { forUpdate } from '../store/locks.js'
import { ApiError } from './api-error.js'
import type { Clock } from './clock.js'

/**
 * `Idempotency-Key` with the semantics of draft-ietf-httpapi-idempotency-key-header: the same key
 * with the same body replays the first response; with another body it is a 422; while the first
 * request is still being processed it is a 409. The key row is written before the work and
 * completed inside the work's own transaction, so two racing requests cannot both do the work and a
 * crash between the two leaves a key that a retry can take over (no message was written).
 *
 * @example
 * const started = await idem.begin(tenantId, key, body)
 * if (started.kind === 'replay') return reply.code(started.status).send(started.body)
 * // …then, in the transaction that does the work:
 * await idem.completeIn(tx, tenantId, key, started.since, 202, responseBody)
 */
export const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/

export function requestHash(body: unknown): string {
  return createHash('sha256').update(canonicalJson(body)).digest('hex')
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`
  }
  return JSON.stringify(value) ?? 'null'
}

/**
 * A key still `in_flight` this long after it was begun belongs to a request whose process died
 * before its transaction: the response is written in the same transaction as the message, so an
 * in-flight key has no message behind it and a retry may take it over.
 */
export const IN_FLIGHT_STALE_MS = 60_000

export type Begun = { kind: 'new'; since: number } | { kind: 'replay'; status: number; body: unknown }

export function createIdempotency(store: Store, clock: Clock) {
  /**
   * Stores the response inside the caller's transaction (the one writing the message), so the
   * message and the replayable answer commit together. Throws when another request took the key
   * over, which rolls the caller's work back.
   */
  const completeIn = async (tx: Tx, tenantId: string, key: string, since: number, status: number, body: unknown) => {
    const done = await tx
      .updateTable('idempotency_keys')
      .set({ state: 'done', response_status: status, response_body: JSON.stringify(body) })
      .where('tenant_id', '=', tenantId)
      .where('key', '=', key)
      .where('state', '=', 'in_flight')
      .where('created_at', '=', since)
      .executeTakeFirst()
    if (Number(done.numUpdatedRows) !== 1) throw new ApiError('idempotency_key_in_flight', `Idempotency-Key "${key}" was taken over by a later request; retry to get its response`)
  }

  return {
    async begin(tenantId: string, key: string, body: unknown): Promise<Begun> {
      if (!IDEMPOTENCY_KEY.test(key)) throw new ApiError('invalid_idempotency_key', 'Idempotency-Key must be 1 to 255 visible ASCII characters')
      const hash = requestHash(body)
      return store.write(async (tx) => {
        const now = clock.now()
        // PostgreSQL: one request at a time decides about an existing key (a new one: the primary key).
        const row = await forUpdate(tx, tx.selectFrom('idempotency_keys').selectAll().where('tenant_id', '=', tenantId).where('key', '=', key)).executeTakeFirst()
        if (!row) {
          await tx.insertInto('idempotency_keys').values({ tenant_id: tenantId, key, request_hash: hash, state: 'in_flight', response_status: null, response_body: null, created_at: now }).execute()
          return { kind: 'new' as const, since: now }
        }
        if (row.state !== 'done' && Number(row.created_at) <= now - IN_FLIGHT_STALE_MS) {
          // created_at doubles as the owner's token: the abandoned request can no longer complete.
          await tx.updateTable('idempotency_keys').set({ request_hash: hash, created_at: now }).where('tenant_id', '=', tenantId).where('key', '=', key).execute()
          return { kind: 'new' as const, since: now }
        }
        if (row.request_hash !== hash) throw new ApiError('idempotency_key_reused', `Idempotency-Key "${key}" was already used with a different request body`)
        if (row.state !== 'done') throw new ApiError('idempotency_key_in_flight', `the first request with Idempotency-Key "${key}" is still being processed; retry shortly`)
        return { kind: 'replay' as const, status: row.response_status ?? 200, body: row.response_body ? (JSON.parse(row.response_body) as unknown) : null }
      })
    },
    completeIn,
    async complete(tenantId: string, key: string, since: number, status: number, body: unknown) {
      await store.write((tx) => completeIn(tx, tenantId, key, since, status, body))
    },
    /** A request that failed validation leaves no trace, so the client can fix it and reuse the key. */
    async abandon(tenantId: string, key: string, since: number) {
      await store.write((tx) =>
        tx.deleteFrom('idempotency_keys').where('tenant_id', '=', tenantId).where('key', '=', key).where('state', '=', 'in_flight').where('created_at', '=', since).execute(),
      )
    },
  }
}

export type Idempotency = ReturnType<typeof createIdempotency>
