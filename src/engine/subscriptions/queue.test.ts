import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Store } from '../../store/db.js'
import type { Envelope } from '../events.js'
import { fanOut } from './fanout.js'
import { leaseDue, recordOutcome, type Job, type Outcome } from './queue.js'
import { addEvent, addSubscription, memoryStore } from './test-support.js'

describe('delivery queue: leases and outcomes', () => {
  let store: Store
  const schedule = [0, 100, 1_000]
  beforeEach(async () => {
    store = await memoryStore()
  })
  afterEach(async () => store.close())

  const setup = async (events = 1, maxInFlight = 4) => {
    await addSubscription(store, { id: 'sub_1', tenant_id: 'tn_a', topics: JSON.stringify(['>']), max_in_flight: maxInFlight })
    for (let i = 0; i < events; i++) await addEvent(store, 'tn_a', `t.${i}`)
    await store.write((tx) => fanOut(tx, 1_000))
  }
  const lease = (now: number, slots = 10) => store.write((tx) => leaseDue(tx, now, [{ subscriptionId: 'sub_1', slots }]))
  const record = async (job: Job, outcome: Outcome, now: number) => {
    const events: Envelope[] = []
    const verdict = await store.write((tx) => recordOutcome(tx, job, outcome, schedule, now, events))
    return { verdict, events }
  }
  const delivery = async () => store.read.selectFrom('deliveries').selectAll().executeTakeFirstOrThrow()
  const sub = async () => store.read.selectFrom('subscriptions').selectAll().executeTakeFirstOrThrow()

  it('leases up to the free slots, and a leased delivery is not leased twice', async () => {
    await setup(5)
    const first = await lease(1_000, 2)
    expect(first).toHaveLength(2)
    expect(first.every((j) => j.event?.id === j.delivery.event_id)).toBe(true)
    const second = await lease(1_000, 10)
    expect(second.map((j) => j.delivery.id)).not.toContain(first[0]?.delivery.id)
    expect(second).toHaveLength(3)
    // An expired lease (a dead process) comes back.
    const later = await lease(1_000 + 1_000 + 30_001, 10)
    expect(later).toHaveLength(5)
  })

  it('walks the schedule on failures, then fails the delivery and disables an endpoint that never succeeded', async () => {
    await setup()
    let now = 1_000
    const expectedWaits = [0, 100, 1_000]
    for (const wait of expectedWaits) {
      const [job] = await lease(now)
      if (!job) throw new Error('nothing due')
      expect((await record(job, { status: 500, latencyMs: 3 }, now)).verdict).toBe('retry')
      const d = await delivery()
      expect(Number(d.next_attempt_at)).toBe(now + wait)
      if (wait > 0) expect(await lease(now + wait - 1)).toEqual([])
      now += wait
    }
    const [last] = await lease(now)
    if (!last) throw new Error('nothing due')
    const { verdict, events } = await record(last, { error: 'ECONNREFUSED', latencyMs: 1 }, now)
    expect(verdict).toBe('failed')
    expect(await delivery()).toMatchObject({ state: 'failed', attempts: 4, last_error: 'ECONNREFUSED' })
    expect((await sub()).state).toBe('disabled')
    expect(events.map((e) => [e.type, e.topic])).toEqual([['subscription.disabled', 'subscription.sub_1.disabled']])
    const attempts = await store.read.selectFrom('delivery_attempts').selectAll().orderBy('attempt').execute()
    expect(attempts.map((a) => [a.attempt, a.status_code])).toEqual([
      [1, 500],
      [2, 500],
      [3, 500],
      [4, null],
    ])
  })

  it('a spent schedule does not disable an endpoint that succeeded since the round began', async () => {
    await setup(2)
    const [a, b] = await lease(1_000)
    if (!a || !b) throw new Error('nothing due')
    expect((await record(a, { status: 200, latencyMs: 1 }, 1_001)).verdict).toBe('delivered')
    await store.write((tx) => tx.updateTable('deliveries').set({ retry_index: schedule.length }).where('id', '=', b.delivery.id).execute())
    const { verdict, events } = await record(b, { status: 400, latencyMs: 1 }, 1_002)
    expect(verdict).toBe('failed')
    expect(events).toEqual([])
    expect((await sub()).state).toBe('active')
  })

  it('410 disables at once; a 3xx is a failure, not a redirect to follow', async () => {
    await setup(2)
    const [a, b] = await lease(1_000)
    if (!a || !b) throw new Error('nothing due')
    expect((await record(a, { status: 302, latencyMs: 1 }, 1_000)).verdict).toBe('retry')
    expect((await store.read.selectFrom('deliveries').select('last_error').where('id', '=', a.delivery.id).executeTakeFirstOrThrow()).last_error).toMatch(/redirects are not followed/)
    const gone = await record(b, { status: 410, latencyMs: 1 }, 1_000)
    expect(gone.verdict).toBe('gone')
    expect(gone.events).toHaveLength(1)
    expect((await sub()).disabled_reason).toMatch(/410/)
    // Disabled: nothing more is leased for it.
    expect(await lease(5_000)).toEqual([])
  })

  it('an attempt aborted by shutdown does not count; an outcome for a retried delivery is dropped', async () => {
    await setup()
    const [job] = await lease(1_000)
    if (!job) throw new Error('nothing due')
    expect((await record(job, { aborted: true, latencyMs: 5 }, 1_010)).verdict).toBe('released')
    expect(await delivery()).toMatchObject({ attempts: 0, retry_index: 0, lease_until: null })
    const [again] = await lease(1_010)
    if (!again) throw new Error('nothing due')
    // Meanwhile someone retried it (new lease cleared): this late outcome must not overwrite it.
    await store.write((tx) => tx.updateTable('deliveries').set({ lease_until: null, next_attempt_at: 2_000 }).execute())
    expect((await record(again, { status: 500, latencyMs: 1 }, 1_020)).verdict).toBe('stale')
    expect(Number((await delivery()).next_attempt_at)).toBe(2_000)
  })
})
