import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ApiError } from '../../src/engine/api-error.js'
import { systemClock } from '../../src/engine/clock.js'
import { createIdempotency, IN_FLIGHT_STALE_MS, requestHash } from '../../src/engine/idempotency.js'
import type { Store } from '../../src/store/db.js'
import { openBackend, seedTenant, STORE_BACKENDS, type Backend } from './store-backends.js'

/**
 * Idempotency-Key on each backend, with requests racing on two Store instances (two processes):
 * one request does the work, the others are told it is in flight, a completed key replays, and
 * an abandoned key is taken over by exactly one retry.
 */
const TENANT = 'tn_idem'

describe.each(STORE_BACKENDS)('idempotency conformance: $name', ({ name, skip }) => {
  describe.skipIf(skip)(name, () => {
    let b: Backend
    let other: Store
    beforeAll(async () => {
      b = await openBackend(name)
      other = await b.open()
      await seedTenant(b.store, TENANT)
    })
    afterAll(async () => {
      await b?.close()
    })

    const outcomes = async (attempts: Array<Promise<unknown>>) => {
      const settled = await Promise.allSettled(attempts)
      const started = settled.filter((s) => s.status === 'fulfilled' && (s.value as { kind: string }).kind === 'new')
      const refused = settled.filter((s) => s.status === 'rejected')
      for (const r of refused) {
        expect((r as PromiseRejectedResult).reason).toBeInstanceOf(ApiError)
        expect((r as PromiseRejectedResult).reason).toMatchObject({ code: 'idempotency_key_in_flight' })
      }
      return { started: started.length, refused: refused.length }
    }

    it('of 10 concurrent first requests with one key, exactly one does the work; the rest are in flight', async () => {
      const idem = [createIdempotency(b.store, systemClock), createIdempotency(other, systemClock)]
      const body = { to: '+14155550123', text: 'once' }
      const result = await outcomes(Array.from({ length: 10 }, (_, i) => (idem[i % 2] as ReturnType<typeof createIdempotency>).begin(TENANT, 'key-race', body)))
      expect(result).toEqual({ started: 1, refused: 9 })
    })

    it('a completed key replays its response; another body with it is refused', async () => {
      const idem = createIdempotency(b.store, systemClock)
      const body = { to: '+14155550123', text: 'replay me' }
      const begun = await idem.begin(TENANT, 'key-done', body)
      expect(begun.kind).toBe('new')
      if (begun.kind !== 'new') return
      await b.store.write((tx) => idem.completeIn(tx, TENANT, 'key-done', begun.since, 202, { id: 'msg_1', status: 'queued' }))
      const replays = await Promise.all([createIdempotency(other, systemClock).begin(TENANT, 'key-done', body), idem.begin(TENANT, 'key-done', body)])
      for (const r of replays) expect(r).toEqual({ kind: 'replay', status: 202, body: { id: 'msg_1', status: 'queued' } })
      await expect(idem.begin(TENANT, 'key-done', { ...body, text: 'other' })).rejects.toMatchObject({ code: 'idempotency_key_reused' })
    })

    it('an abandoned in-flight key is taken over by exactly one of several concurrent retries, and the old owner cannot complete it', async () => {
      const body = { to: '+14155550123', text: 'abandoned' }
      const abandonedSince = Date.now() - IN_FLIGHT_STALE_MS - 1_000
      await b.store.write((tx) =>
        tx.insertInto('idempotency_keys').values({ tenant_id: TENANT, key: 'key-stale', request_hash: requestHash(body), state: 'in_flight', response_status: null, response_body: null, created_at: abandonedSince }).execute(),
      )
      const idem = [createIdempotency(b.store, systemClock), createIdempotency(other, systemClock)]
      const result = await outcomes(Array.from({ length: 8 }, (_, i) => (idem[i % 2] as ReturnType<typeof createIdempotency>).begin(TENANT, 'key-stale', body)))
      expect(result).toEqual({ started: 1, refused: 7 })
      await expect(b.store.write((tx) => (idem[0] as ReturnType<typeof createIdempotency>).completeIn(tx, TENANT, 'key-stale', abandonedSince, 202, {}))).rejects.toMatchObject({
        code: 'idempotency_key_in_flight',
      })
    })
  })
})
