import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { appendEvent, cursor, listEvents } from '../../src/engine/events.js'
import type { Store } from '../../src/store/db.js'
import { EVENT_LOCK } from '../../src/store/postgres.js'
import { openBackend, pgSkipped, seedTenant, sleep, STORE_BACKENDS, type Backend } from '../conformance/store-backends.js'

/**
 * The event log read by cursor (`seq > last seen`, as the subscription fan-out, GET /v1/events and
 * the SSE stream do) sees every event exactly once and in order, while several writers on two
 * Store instances append concurrently. On PostgreSQL a lower seq can commit after a higher one;
 * readers stay below `store.eventHorizon()`, under which nothing can still appear.
 */
const TENANT = 'tn_events'

async function writeEvents(store: Store, tag: string, writes: number, perWrite: number): Promise<string[]> {
  const ids: string[] = []
  for (let w = 0; w < writes; w++) {
    const written = await store.write(async (tx) => {
      const out: string[] = []
      for (let e = 0; e < perWrite; e++) {
        const env = await appendEvent(tx, { tenantId: TENANT, type: 'test.event', topic: `test.${tag}`, account: null, data: { tag, w, e } }, Date.now())
        out.push(env.id)
        // Other work in the transaction: commits of different writers finish in varied order.
        if (Math.random() < 0.5) await tx.selectFrom('tenants').select('id').where('id', '=', TENANT).execute()
      }
      if (Math.random() < 0.3) await sleep(Math.random() * 3)
      return out
    })
    ids.push(...written)
  }
  return ids
}

/** Follows the log as a cursor reader does, until told to stop and caught up. */
function follow(store: Store) {
  const seen: Array<{ seq: number; id: string }> = []
  let last = 0
  let stop = false
  const readPage = async () => {
    const upTo = Number.MAX_SAFE_INTEGER
    const rows = await store.read.selectFrom('events').select(['seq', 'id']).where('tenant_id', '=', TENANT).where('seq', '>', last).where('seq', '<=', upTo).orderBy('seq').limit(200).execute()
    for (const r of rows) {
      seen.push({ seq: Number(r.seq), id: r.id })
      last = Number(r.seq)
    }
    return rows.length
  }
  const done = (async () => {
    while (!stop) if ((await readPage()) === 0) await sleep(1)
    while ((await readPage()) > 0);
  })()
  return {
    seen,
    async finish() {
      stop = true
      await done
      return seen
    },
  }
}

describe.each(STORE_BACKENDS)('event log conformance: $name', ({ name, skip }) => {
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

    it('a cursor reader following the log during concurrent writes from two instances misses nothing, in seq order', async () => {
      const reader = follow(b.store)
      const listed: string[] = []
      // A second reader through listEvents (GET /v1/events), following next_cursor.
      let after = 0
      let listing = true
      const lister = (async () => {
        const page = async () => {
          const res = await listEvents(other, TENANT, { limit: 50 }, after)
          listed.push(...res.data.map((e) => e.id))
          after = cursor.decode(res.next_cursor) ?? after
          return res.data.length
        }
        while (listing) if ((await page()) === 0) await sleep(2)
        while ((await page()) > 0);
      })()
      const written = (await Promise.all(Array.from({ length: 8 }, (_, i) => writeEvents(i % 2 ? b.store : other, `w${i}`, 25, 1 + (i % 3))))).flat()
      const seen = await reader.finish()
      listing = false
      await lister
      // Writers append 1, 2, 3, 1, 2, 3, 1, 2 events per write, 25 writes each.
      expect(written).toHaveLength(15 * 25)
      expect(seen.map((s) => s.id).sort()).toEqual([...written].sort())
      expect(new Set(seen.map((s) => s.id)).size).toBe(seen.length)
      for (let i = 1; i < seen.length; i++) expect((seen[i] as { seq: number }).seq).toBeGreaterThan((seen[i - 1] as { seq: number }).seq)
      expect([...listed].sort()).toEqual([...written].sort())
    })

    it('events appended in one write get increasing seqs in the order appended', async () => {
      const ids = await b.store.write(async (tx) => {
        const out: string[] = []
        for (let i = 0; i < 5; i++) out.push((await appendEvent(tx, { tenantId: TENANT, type: 'test.order', topic: 'test.order', account: null, data: { i } }, Date.now())).id)
        return out
      })
      const rows = await b.store.read.selectFrom('events').select(['id', 'seq']).where('type', '=', 'test.order').orderBy('seq').execute()
      expect(rows.map((r) => r.id)).toEqual(ids)
    })

    it('a write that fails appends no event', async () => {
      await expect(
        b.store.write(async (tx) => {
          await appendEvent(tx, { tenantId: TENANT, type: 'test.rolled_back', topic: 'test.rolled_back', account: null, data: {} }, Date.now())
          throw new Error('no')
        }),
      ).rejects.toThrow('no')
      const rows = await b.store.read.selectFrom('events').select('id').where('type', '=', 'test.rolled_back').execute()
      expect(rows).toEqual([])
    })
  })
})

describe.skipIf(pgSkipped)('event log on PostgreSQL: the horizon waits for a writer holding a lower seq', () => {
  let b: Backend
  beforeAll(async () => {
    b = await openBackend('postgres')
    await seedTenant(b.store, TENANT)
  })
  afterAll(async () => {
    await b?.close()
  })

  it('while a writer has taken seq N uncommitted and a later writer committed N+1, readers stop below N', async () => {
    const schema = new URL(b.url ?? '').searchParams.get('schema') ?? ''
    const raw = new pg.Client({ connectionString: (b.url ?? '').replace(/[?&]schema=[^&]*/, ''), options: `-c search_path=${schema}` })
    await raw.connect()
    try {
      const before = await b.store.eventHorizon()
      // A writer exactly as the store's final step: shared event lock, insert, (not yet) commit.
      await raw.query('begin')
      await raw.query('select pg_advisory_xact_lock_shared($1::int4, hashtext($2)::int4)', [EVENT_LOCK, schema])
      const slow = await raw.query<{ seq: string }>(
        `insert into events (id, tenant_id, type, topic, account, created_at, data) values ('evt_slow', $1, 'test.slow', 'test.slow', null, 1, '{}') returning seq`,
        [TENANT],
      )
      const slowSeq = Number(slow.rows[0]?.seq)
      // A later writer commits a higher seq through the store.
      await b.store.write((tx) => appendEvent(tx, { tenantId: TENANT, type: 'test.fast', topic: 'test.fast', account: null, data: {} }, Date.now()))
      const fast = await b.store.read.selectFrom('events').select('seq').where('type', '=', 'test.fast').executeTakeFirstOrThrow()
      expect(Number(fast.seq)).toBeGreaterThan(slowSeq)
      // The hazard: a plain reader sees the higher seq already and would move its cursor past the lower one.
      const visibleMax = await b.store.read.selectFrom('events').select((eb) => eb.fn.max('seq').as('m')).executeTakeFirstOrThrow()
      expect(Number(visibleMax.m)).toBe(Number(fast.seq))
      // The horizon does not answer while the lower seq is unfinished…
      let horizon: number | undefined
      const pending = b.store.eventHorizon().then((h) => {
        horizon = h
        return h
      })
      await sleep(300)
      expect(horizon).toBeUndefined()
      // …and once it commits, answers a horizon that covers both, and both are readable.
      await raw.query('commit')
      const h = await pending
      expect(h).toBeGreaterThanOrEqual(Number(fast.seq))
      expect(before).toBeLessThan(slowSeq)
      const rows = await b.store.read.selectFrom('events').select('id').where('seq', '>', before).where('seq', '<=', h).orderBy('seq').execute()
      expect(rows.map((r) => r.id)).toContain('evt_slow')
    } finally {
      await raw.query('rollback').catch(() => undefined)
      await raw.end()
    }
  })
})
