import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { prepared } from '../../src/store/prepared.js'
import { openBackend, seedTenant, STORE_BACKENDS, type Backend } from './store-backends.js'

/**
 * Queries compiled once per dialect (src/store/prepared.ts) give what the same Kysely query gives
 * when built on every call, on both stores, and refuse builders that would not be the same query
 * for every value.
 */
describe.each(STORE_BACKENDS)('prepared queries: $name', ({ name, skip }) => {
  describe.skipIf(skip)(name, () => {
    let b: Backend
    beforeAll(async () => {
      b = await openBackend(name)
      await seedTenant(b.store, 'tn_prep')
    })
    afterAll(async () => {
      await b?.close()
    })

    let builds = 0
    const insertEvent = prepared((db, p: { id: string; type: string; topic: string; createdAt: number; data: string }) => {
      builds++
      return db.insertInto('events').values({ id: p.id, tenant_id: 'tn_prep', type: p.type, topic: p.topic, account: null, created_at: p.createdAt, data: p.data })
    })
    const eventsOfType = prepared((db, p: { type: string }) => db.selectFrom('events').select(['id', 'topic', 'created_at', 'data']).where('tenant_id', '=', 'tn_prep').where('type', '=', p.type).orderBy('seq'))
    const addTenant = prepared((db, p: { id: string }) => db.insertInto('tenants').values({ id: p.id, name: p.id, default_country: null, created_at: 1 }).onConflict((oc) => oc.column('id').doNothing()))

    it('inserts and selects with each call’s values, the constants of the builder kept', async () => {
      await b.store.write(async (tx) => {
        await insertEvent(tx, { id: 'evt_p1', type: 'prep.a', topic: 't.one', createdAt: 11, data: '{"n":1}' })
        await insertEvent(tx, { id: 'evt_p2', type: 'prep.b', topic: 't.two', createdAt: 22, data: '{"n":2}' })
        await insertEvent(tx, { id: 'evt_p3', type: 'prep.a', topic: 't.three', createdAt: 33, data: '{"n":3}' })
      })
      const plain = await b.store.read.selectFrom('events').select(['id', 'topic', 'created_at', 'data']).where('tenant_id', '=', 'tn_prep').where('type', '=', 'prep.a').orderBy('seq').execute()
      const viaPrepared = (await eventsOfType(b.store.read, { type: 'prep.a' })).rows
      expect(viaPrepared.map((r) => r.id)).toEqual(['evt_p1', 'evt_p3'])
      expect(viaPrepared).toEqual(plain)
      expect((await eventsOfType(b.store.read, { type: 'prep.b' })).rows.map((r) => [r.id, r.topic, Number(r.created_at)])).toEqual([['evt_p2', 't.two', 22]])
      // built once for this dialect, however many calls and transactions
      expect(builds).toBe(1)
    })

    it('reports affected rows as the built query does (on conflict do nothing: 1, then 0)', async () => {
      const first = await b.store.write((tx) => addTenant(tx, { id: 'tn_prep_new' }))
      const again = await b.store.write((tx) => addTenant(tx, { id: 'tn_prep_new' }))
      expect([Number(first.numAffectedRows), Number(again.numAffectedRows)]).toEqual([1, 0])
    })

    it('refuses a builder that transforms a parameter, and an undefined parameter', async () => {
      const transforms = prepared((db, p: { n: string }) => db.selectFrom('events').select('id').where('data', '=', JSON.stringify(p.n)))
      await expect(transforms(b.store.read, { n: 'x' })).rejects.toThrow(/transformed a parameter/)
      await expect(eventsOfType(b.store.read, { type: undefined as unknown as string })).rejects.toThrow(/parameter "type" is undefined/)
    })
  })
})
