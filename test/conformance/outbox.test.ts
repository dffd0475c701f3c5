import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Account } from '../../src/engine/accounts.js'
import { leaseDue } from '../../src/engine/subscriptions/queue.js'
import type { RateLimiter } from '../../src/engine/limiter.js'
import type { Store } from '../../src/store/db.js'
import { accountRow, fakeAccount, fakeWorker, outboxLeft, queueMessages, until } from './fake-account.js'
import { openBackend, pgSkipped, PG_URL, seedTenant, sleep, STORE_BACKENDS, type Backend, type BackendName } from './store-backends.js'

/**
 * The work queues on each backend: the outbox worker of two Store instances (two processes) sends
 * every job exactly once; an expired lease is taken over, a live one is not; the subscription
 * delivery queue never leases one delivery to two leasers at once. On PostgreSQL, a row another
 * transaction holds is skipped, not waited for (FOR UPDATE SKIP LOCKED).
 */
const TENANT = 'tn_outbox'
const ACCOUNT = 'acc_outbox'
const accountRowOf = () => accountRow(TENANT, ACCOUNT)

/** The fake account, recording each send with who made it. */
const recording = (sends: Array<{ id: string; by: string }>, by: () => string) => fakeAccount(TENANT, ACCOUNT, (m) => sends.push({ id: m.id, by: by() }))
const worker = (store: Store, account: Account) => fakeWorker(store, account)
const queue = (store: Store, prefix: string, n: number, lease?: { owner: string; until: number }) => queueMessages(store, fakeAccount(TENANT, ACCOUNT), prefix, n, lease)

/** A limiter whose every slot is held until `open()`: a job waiting at its send slot for as long as a test wants. */
function gatedLimiter() {
  let asked = false
  let open: () => void = () => undefined
  const gate = new Promise<void>((resolve) => (open = resolve))
  const limiter: RateLimiter = {
    async reserve() {
      asked = true
      await gate
      return { ok: true, waitMs: 0 }
    },
    async penalize() {},
  }
  return { limiter, open, reserved: () => asked }
}

describe.each(STORE_BACKENDS)('outbox conformance: $name', ({ name, skip }) => {
  describe.skipIf(skip)(name, () => {
    let b: Backend
    let other: Store
    beforeAll(async () => {
      b = await openBackend(name as BackendName)
      other = await b.open()
      await seedTenant(b.store, TENANT)
      await b.store.write((tx) => tx.insertInto('accounts').values(accountRowOf()).execute())
    })
    afterAll(async () => {
      await b?.close()
    })

    it('two workers on two store instances send 300 jobs, each exactly once', async () => {
      const sends: Array<{ id: string; by: string }> = []
      let who = ''
      const wa = worker(b.store, recording(sends, () => who || 'a'))
      const wb = worker(other, recording(sends, () => who || 'b'))
      const ids = await queue(b.store, 'pair', 300)
      wa.start()
      wb.start()
      try {
        await until(async () => (await outboxLeft(b.store, ids)) === 0, 60_000, 'the outbox to drain')
      } finally {
        await wa.stop()
        await wb.stop()
      }
      const perId = new Map<string, number>()
      for (const s of sends) perId.set(s.id, (perId.get(s.id) ?? 0) + 1)
      expect([...perId.values()].filter((n) => n !== 1)).toEqual([])
      expect(new Set(perId.keys())).toEqual(new Set(ids))
      const rows = await b.store.read.selectFrom('messages').select(['id', 'status', 'provider_message_id', 'duplicate_risk']).where('id', 'in', ids).execute()
      expect(rows.every((r) => r.status === 'sending' && r.provider_message_id === `wamid.${r.id}` && Number(r.duplicate_risk) === 0)).toBe(true)
      const sendingEvents = await b.store.read.selectFrom('events').select('id').where('topic', '=', `message.${accountRowOf().name}.sending`).execute()
      expect(sendingEvents.length).toBeGreaterThanOrEqual(300)
      if (name === 'postgres') expect(new Set(sends.map((s) => s.by)).size).toBe(2) // both processes took part
    })

    // Several processes share a store only on PostgreSQL; SQLite has one process, whose chains keep order.
    if (name === 'postgres') it('keeps the order of each recipient across two workers on two store instances', async () => {
      const sends: Array<{ id: string; by: string }> = []
      const wa = worker(b.store, recording(sends, () => 'a'))
      const wb = worker(other, recording(sends, () => 'b'))
      const ids = await queueMessages(b.store, fakeAccount(TENANT, ACCOUNT), 'order', 90, undefined, 3)
      wa.start()
      wb.start()
      try {
        await until(async () => (await outboxLeft(b.store, ids)) === 0, 60_000, 'the outbox to drain')
      } finally {
        await wa.stop()
        await wb.stop()
      }
      // Ids sort by creation; job i goes to recipient i % 3.
      for (let r = 0; r < 3; r++) {
        const expected = ids.filter((_, i) => i % 3 === r)
        const seen = sends.map((s) => s.id).filter((id) => expected.includes(id))
        expect(seen).toEqual(expected)
      }
    })

    it('takes over a job whose lease expired, and leaves one whose lease holds', async () => {
      const sends: Array<{ id: string; by: string }> = []
      const w = worker(b.store, recording(sends, () => 'w'))
      const expired = await queue(b.store, 'expired', 3, { owner: 'wrk_dead', until: Date.now() - 1 })
      const held = await queue(b.store, 'held', 3, { owner: 'wrk_alive', until: Date.now() + 60_000 })
      w.start()
      try {
        await until(async () => (await outboxLeft(b.store, expired)) === 0, 20_000, 'the expired jobs to be sent')
        await sleep(300)
      } finally {
        await w.stop()
      }
      expect(sends.map((s) => s.id).sort()).toEqual(expired)
      expect(await outboxLeft(b.store, held)).toBe(3)
      // The takeover may follow a send by the dead holder: it is counted on the message.
      const risk = await b.store.read.selectFrom('messages').select('duplicate_risk').where('id', 'in', expired).execute()
      expect(risk.every((r) => Number(r.duplicate_risk) === 1)).toBe(true)
      await b.store.write((tx) => tx.deleteFrom('outbox').where('message_id', 'in', held).execute())
    })

    it('does not send a job that another worker took over while it waited for its send slot', async () => {
      const sends: Array<{ id: string; by: string }> = []
      // The limiter holds the job at its slot until the test opens the gate: a send slot far ahead.
      const { limiter, open, reserved } = gatedLimiter()
      const w = fakeWorker(b.store, recording(sends, () => 'w'), 1_000, limiter)
      const [id] = await queue(b.store, 'slot', 1)
      w.start()
      try {
        await until(async () => reserved(), 10_000, 'the job to wait for its slot')
        // Meanwhile its lease lapsed and another worker leased it (as a saturated database would let happen).
        await b.store.write((tx) => tx.updateTable('outbox').set({ lease_owner: 'wrk_other', lease_until: Date.now() + 60_000 }).where('message_id', '=', id as string).execute())
        await sleep(600) // more than a renewal period (lease ÷ 4): the worker learns it lost the job
        open()
        await sleep(300)
      } finally {
        await w.stop()
      }
      expect(sends).toEqual([])
      const row = await b.store.read.selectFrom('outbox').select(['lease_owner']).where('message_id', '=', id as string).executeTakeFirst()
      expect(row?.lease_owner).toBe('wrk_other') // untouched: the job is the other worker's
      await b.store.write((tx) => tx.deleteFrom('outbox').where('message_id', '=', id as string).execute())
    })

    it('sends a job whose slot wait outlasts its first lease, renewals keeping it', async () => {
      const sends: Array<{ id: string; by: string }> = []
      const { limiter, open } = gatedLimiter()
      const w = fakeWorker(b.store, recording(sends, () => 'w'), 1_000, limiter)
      const ids = await queue(b.store, 'renewed', 1)
      w.start()
      try {
        await sleep(2_500) // two and a half leases
        open()
        await until(async () => (await outboxLeft(b.store, ids)) === 0, 10_000, 'the job to be sent')
      } finally {
        await w.stop()
      }
      expect(sends.map((s) => s.id)).toEqual(ids)
      const risk = await b.store.read.selectFrom('messages').select('duplicate_risk').where('id', 'in', ids).execute()
      expect(risk.map((r) => Number(r.duplicate_risk))).toEqual([0])
    })

    it.each([
      { shared: true, reservations: 2, rebooked: 1 },
      { shared: false, reservations: 1, rebooked: 0 },
    ])('a late wake-up for its slot (a stalled event loop), schedule shared: $shared → $reservations reservation(s), then one send', async ({ shared, reservations: expectedReservations, rebooked }) => {
      const sends: Array<{ id: string; by: string }> = []
      let reservations = 0
      const stalling: RateLimiter = {
        shared,
        async reserve() {
          reservations++
          // The first slot is 5 ms ahead, and the event loop then stalls for 80 ms: the wake-up is late.
          if (reservations === 1) setImmediate(() => {
            const start = Date.now()
            while (Date.now() - start < 80) {
              /* a long synchronous stretch, like a big commit */
            }
          })
          return { ok: true, waitMs: 5 }
        },
        async penalize() {},
      }
      const w = fakeWorker(b.store, recording(sends, () => 'w'), 5_000, stalling)
      const ids = await queue(b.store, `late-${shared}`, 1)
      w.start()
      try {
        await until(async () => (await outboxLeft(b.store, ids)) === 0, 10_000, 'the job to be sent')
      } finally {
        await w.stop()
      }
      expect(sends.map((s) => s.id)).toEqual(ids)
      // Shared (Redis): the slot it slept through belongs to the schedule of every process, so it
      // books another. In one process the dispatch window caps the second; the send goes at once.
      expect(reservations).toBe(expectedReservations)
      expect(w.stats().lateSlots).toBe(rebooked)
    })

    it('a one-off message of another account is not kept behind a paced backlog (fair leasing)', async () => {
      // Account "campaign" (20 msg/s) has 200 jobs queued first, "oneoff" (20 msg/s) 3 jobs after
      // them. Leased in queue order, the campaign's jobs would hold all 16 slots for ~9 s.
      const sends: string[] = []
      const paced = (id: string) => {
        const a = fakeAccount(TENANT, id, (m) => sends.push(m.id))
        a.row.rate_limit = 20
        return a
      }
      const campaign = paced('acc_campaign')
      const oneOff = paced('acc_oneoff')
      await b.store.write(async (tx) => {
        for (const a of [campaign, oneOff]) await tx.insertInto('accounts').values(a.row).execute()
      })
      const backlog = await queueMessages(b.store, campaign, 'campaign', 200)
      await sleep(5) // later run_at for the one-off jobs
      const mine = await queueMessages(b.store, oneOff, 'oneoff', 3)
      const w = fakeWorker(b.store, [campaign, oneOff], 60_000)
      w.start()
      try {
        await until(async () => (await outboxLeft(b.store, mine)) === 0, 5_000, 'the one-off jobs to be sent')
      } finally {
        await w.stop()
      }
      const campaignSent = sends.filter((id) => id.startsWith('msg_campaign')).length
      // 3 one-off sends at 20/s take ~100 ms; the campaign sent a few in that time, not its backlog.
      expect(campaignSent).toBeLessThan(30)
      expect(sends.filter((id) => id.startsWith('msg_oneoff')).sort()).toEqual(mine)
      // No more than a second of the campaign's rate was leased at once.
      const held = await b.store.read.selectFrom('outbox').select('message_id').where('message_id', 'in', backlog).where('lease_owner', 'is not', null).execute()
      expect(held.length).toBeLessThanOrEqual(20)
      await b.store.write((tx) => tx.deleteFrom('outbox').where('message_id', 'in', backlog).execute())
    })

    it('the delivery queue never leases one delivery twice while leased, across two instances', async () => {
      const now = Date.now()
      await b.store.write(async (tx) => {
        await tx
          .insertInto('subscriptions')
          .values({
            id: 'sub_conf',
            tenant_id: TENANT,
            kind: 'webhook',
            url: 'http://127.0.0.1:9/',
            topics: '[">"]',
            target: null,
            secret_sealed: 'x',
            description: null,
            state: 'active',
            disabled_reason: null,
            disabled_at: null,
            max_in_flight: 8,
            timeout_ms: 60_000,
            cursor_seq: 0,
            last_success_at: null,
            created_at: now,
            updated_at: now,
          })
          .execute()
        for (let i = 0; i < 120; i++) {
          await tx
            .insertInto('deliveries')
            .values({
              id: `dlv_conf_${String(i).padStart(4, '0')}`,
              tenant_id: TENANT,
              subscription_id: 'sub_conf',
              event_id: `evt_conf_${i}`,
              event_seq: i + 1,
              state: 'pending',
              attempts: 0,
              retry_index: 0,
              round_started_at: now,
              next_attempt_at: now,
              lease_until: null,
              last_status: null,
              last_error: null,
              last_latency_ms: null,
              created_at: now,
              updated_at: now,
              delivered_at: null,
            })
            .execute()
        }
      })
      const leased: string[] = []
      const leaser = async (store: Store) => {
        for (;;) {
          const jobs = await store.write((tx) => leaseDue(tx, Date.now(), [{ subscriptionId: 'sub_conf', slots: 7 }]))
          if (jobs.length === 0) return
          leased.push(...jobs.map((j) => j.delivery.id))
        }
      }
      await Promise.all([leaser(b.store), leaser(other), leaser(b.store), leaser(other)])
      expect(leased).toHaveLength(120)
      expect(new Set(leased).size).toBe(120)
    })
  })
})

describe.skipIf(pgSkipped)('outbox on PostgreSQL: a row held by another transaction is skipped, not waited for', () => {
  let b: Backend
  beforeAll(async () => {
    b = await openBackend('postgres')
    await seedTenant(b.store, TENANT)
    await b.store.write((tx) => tx.insertInto('accounts').values(accountRowOf()).execute())
  })
  afterAll(async () => {
    await b?.close()
  })

  it('leases and sends the other jobs while one row stays locked, then sends that one once released', async () => {
    expect(PG_URL).toBeDefined()
    const ids = await queue(b.store, 'skip', 5)
    const lockedId = ids[0] as string
    const holder = new pg.Client({ connectionString: b.url?.replace(/[?&]schema=[^&]*/, ''), options: `-c search_path=${new URL(b.url ?? '').searchParams.get('schema')}` })
    await holder.connect()
    const sends: Array<{ id: string; by: string }> = []
    const w = worker(b.store, recording(sends, () => 'w'))
    try {
      await holder.query('begin')
      await holder.query('select message_id from outbox where message_id = $1 for update', [lockedId])
      w.start()
      await until(async () => (await outboxLeft(b.store, ids.slice(1))) === 0, 20_000, 'the unlocked jobs to be sent')
      expect(sends.map((s) => s.id)).not.toContain(lockedId)
      await holder.query('commit')
      await until(async () => (await outboxLeft(b.store, [lockedId])) === 0, 20_000, 'the released job to be sent')
    } finally {
      await holder.query('rollback').catch(() => undefined)
      await holder.end()
      await w.stop()
    }
    expect(sends.map((s) => s.id).sort()).toEqual(ids)
  })
})
