import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ApiError } from '../../src/engine/api-error.js'
import type { Store } from '../../src/store/db.js'
import { forUpdate, lockKeys } from '../../src/store/locks.js'
import { openPostgresStore } from '../../src/store/postgres.js'
import { createTestSchema } from '../harness/pg-schema.js'
import { openBackend, pgSkipped, PG_URL, seedTenant, sleep, STORE_BACKENDS, type Backend } from './store-backends.js'

/**
 * The Store contract, the same on SQLite and PostgreSQL: a write is one transaction (all or
 * nothing, the caller's error comes back as thrown), unique constraints dedupe, bigint columns read
 * as numbers, and read-then-write decisions made under the store's locks hold when two Store
 * instances (two processes) write at once.
 */
describe.each(STORE_BACKENDS)('store conformance: $name', ({ name, skip }) => {
  describe.skipIf(skip)(name, () => {
    let b: Backend
    let other: Store
    beforeAll(async () => {
      b = await openBackend(name)
      other = await b.open()
      await seedTenant(b.store, 'tn_conf')
    })
    afterAll(async () => {
      await b?.close()
    })

    const keyRow = (id: string, hash = id) => ({ id, tenant_id: 'tn_conf', key_hash: hash, prefix: 'p', created_at: Date.now() })
    const keyCount = async (store: Store, prefix: string) =>
      Number((await store.read.selectFrom('api_keys').select((eb) => eb.fn.countAll().as('n')).where('id', 'like', `${prefix}%`).executeTakeFirstOrThrow()).n)

    it('commits a write and returns its value; the other instance reads it', async () => {
      const value = await b.store.write(async (tx) => {
        await tx.insertInto('api_keys').values(keyRow('k_commit')).execute()
        return { ok: 1 }
      })
      expect(value).toEqual({ ok: 1 })
      expect(await keyCount(other, 'k_commit')).toBe(1)
    })

    it('rolls back everything a failing write did, and rethrows its error as is', async () => {
      const failing = b.store.write(async (tx) => {
        await tx.insertInto('api_keys').values(keyRow('k_rollback_1')).execute()
        await tx.insertInto('api_keys').values(keyRow('k_rollback_2')).execute()
        throw new ApiError('not_found', 'changed my mind')
      })
      await expect(failing).rejects.toBeInstanceOf(ApiError)
      await expect(failing).rejects.toMatchObject({ code: 'not_found' })
      expect(await keyCount(b.store, 'k_rollback')).toBe(0)
      // A failed write does not poison the next one.
      await b.store.write((tx) => tx.insertInto('api_keys').values(keyRow('k_rollback_after')).execute())
      expect(await keyCount(b.store, 'k_rollback_after')).toBe(1)
    })

    it('a constraint violation fails only its own write', async () => {
      await b.store.write((tx) => tx.insertInto('api_keys').values(keyRow('k_dup_a', 'same-hash')).execute())
      const results = await Promise.allSettled([
        b.store.write((tx) => tx.insertInto('api_keys').values(keyRow('k_dup_b', 'same-hash')).execute()),
        b.store.write((tx) => tx.insertInto('api_keys').values(keyRow('k_dup_c')).execute()),
      ])
      expect(results[0].status).toBe('rejected')
      expect(results[1].status).toBe('fulfilled')
      expect(await keyCount(b.store, 'k_dup')).toBe(2)
    })

    it('dedupes with onConflict doNothing, from both instances at once', async () => {
      const insert = (store: Store) =>
        store.write(async (tx) => {
          const res = await tx
            .insertInto('message_history')
            .values({ message_id: 'msg_dedupe', status: 'read', provider_status: 'read', at: 5, error: null })
            .onConflict((oc) => oc.columns(['message_id', 'status', 'provider_status']).doNothing())
            .executeTakeFirst()
          return Number(res.numInsertedOrUpdatedRows ?? 0)
        })
      const inserted = await Promise.all(Array.from({ length: 10 }, (_, i) => insert(i % 2 ? b.store : other)))
      expect(inserted.reduce((a, n) => a + n, 0)).toBe(1)
      const rows = await b.store.read.selectFrom('message_history').selectAll().where('message_id', '=', 'msg_dedupe').execute()
      expect(rows).toHaveLength(1)
    })

    it('reads bigint columns, counts and sums as numbers', async () => {
      const big = 1_795_000_000_123
      await b.store.write((tx) => tx.insertInto('tenants').values({ id: 'tn_big', name: 'big', default_country: null, created_at: big }).execute())
      const row = await b.store.read.selectFrom('tenants').select('created_at').where('id', '=', 'tn_big').executeTakeFirstOrThrow()
      expect(row.created_at).toBe(big)
      const agg = await b.store.read
        .selectFrom('tenants')
        .select((eb) => [eb.fn.countAll().as('n'), eb.fn.sum<number>('created_at').as('total'), eb.fn.max('created_at').as('top')])
        .where('id', '=', 'tn_big')
        .executeTakeFirstOrThrow()
      expect(agg).toEqual({ n: 1, total: big, top: big })
    })

    it('create-if-absent raced from two instances leaves one row and answers every caller with it', async () => {
      const ensure = (store: Store) =>
        store.write(async (tx) => {
          const found = await tx.selectFrom('api_keys').select('id').where('key_hash', '=', 'race-hash').executeTakeFirst()
          if (found) return found.id
          await sleep(5) // widen the window between the read and the insert
          const id = `k_race_${Math.random().toString(36).slice(2)}`
          await tx.insertInto('api_keys').values(keyRow(id, 'race-hash')).execute()
          return id
        })
      const ids = await Promise.all(Array.from({ length: 12 }, (_, i) => ensure(i % 2 ? b.store : other)))
      const rows = await b.store.read.selectFrom('api_keys').select('id').where('key_hash', '=', 'race-hash').execute()
      expect(rows).toHaveLength(1)
      expect(new Set(ids)).toEqual(new Set([rows[0]?.id]))
    })

    it('read-then-write under lockKeys loses no update across two instances', async () => {
      await b.store.write((tx) => tx.insertInto('tenants').values({ id: 'tn_counter', name: '0', default_country: null, created_at: 0 }).execute())
      const bump = (store: Store) =>
        store.write(async (tx) => {
          await lockKeys(tx, ['counter:tn_counter'])
          const row = await tx.selectFrom('tenants').select('name').where('id', '=', 'tn_counter').executeTakeFirstOrThrow()
          await sleep(1)
          await tx.updateTable('tenants').set({ name: String(Number(row.name) + 1) }).where('id', '=', 'tn_counter').execute()
        })
      await Promise.all(Array.from({ length: 30 }, (_, i) => bump(i % 2 ? b.store : other)))
      const row = await b.store.read.selectFrom('tenants').select('name').where('id', '=', 'tn_counter').executeTakeFirstOrThrow()
      expect(row.name).toBe('30')
    })

    it('read-then-write under forUpdate loses no update across two instances', async () => {
      await b.store.write((tx) => tx.insertInto('tenants').values({ id: 'tn_rowlock', name: 'x', default_country: null, created_at: 0 }).execute())
      const bump = (store: Store) =>
        store.write(async (tx) => {
          const row = await forUpdate(tx, tx.selectFrom('tenants').select('created_at').where('id', '=', 'tn_rowlock')).executeTakeFirstOrThrow()
          await sleep(1)
          await tx.updateTable('tenants').set({ created_at: Number(row.created_at) + 1 }).where('id', '=', 'tn_rowlock').execute()
        })
      await Promise.all(Array.from({ length: 30 }, (_, i) => bump(i % 2 ? b.store : other)))
      const row = await b.store.read.selectFrom('tenants').select('created_at').where('id', '=', 'tn_rowlock').executeTakeFirstOrThrow()
      expect(row.created_at).toBe(30)
    })

    it('answers ping', async () => {
      expect(await b.store.ping()).toBe(true)
      expect(await other.ping()).toBe(true)
    })
  })
})

describe.skipIf(pgSkipped)('store on PostgreSQL: processes starting together', () => {
  it('three stores opened at once on a fresh schema migrate it once and all work', async () => {
    const schema = await createTestSchema({ url: PG_URL })
    const stores: Store[] = []
    try {
      stores.push(...(await Promise.all([0, 1, 2].map(() => openPostgresStore({ url: schema.url, poolSize: 2 })))))
      const names = (await sql<{ name: string }>`select name from kysely_migration`.execute((stores[0] as Store).read)).rows.map((r) => r.name)
      expect(names.length).toBeGreaterThan(0)
      expect(new Set(names).size).toBe(names.length)
      await Promise.all(stores.map((s, i) => s.write((tx) => tx.insertInto('tenants').values({ id: `tn_start_${i}`, name: 'x', default_country: null, created_at: 1 }).execute())))
      const rows = await stores[1]?.read.selectFrom('tenants').select('id').where('id', 'like', 'tn_start_%').execute()
      expect(rows).toHaveLength(3)
    } finally {
      for (const s of stores) await s.close()
      await schema.drop()
    }
  })
})
