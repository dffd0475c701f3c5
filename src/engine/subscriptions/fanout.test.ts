import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Store } from '../../store/db.js'
import { fanOut } from './fanout.js'
import { addEvent, addSubscription, memoryStore } from './test-support.js'

describe('fan-out of the event log to subscriptions', () => {
  let store: Store
  beforeEach(async () => {
    store = await memoryStore()
  })
  afterEach(async () => store.close())

  const deliveries = () => store.read.selectFrom('deliveries').select(['subscription_id', 'event_id', 'state', 'next_attempt_at']).orderBy('event_seq').execute()

  it('creates one pending delivery per matching (subscription, event), NATS wildcard rules, per tenant', async () => {
    await addSubscription(store, { id: 'sub_star', tenant_id: 'tn_a', topics: JSON.stringify(['message.*.read']) })
    await addSubscription(store, { id: 'sub_tail', tenant_id: 'tn_a', topics: JSON.stringify(['incoming.>']) })
    await addSubscription(store, { id: 'sub_b', tenant_id: 'tn_b', topics: JSON.stringify(['>']) })
    const read = await addEvent(store, 'tn_a', 'message.acme.read')
    const deep = await addEvent(store, 'tn_a', 'message.acme.x.read')
    const inc = await addEvent(store, 'tn_a', 'incoming.acme.from.+1555')
    const bare = await addEvent(store, 'tn_a', 'incoming')
    const other = await addEvent(store, 'tn_b', 'incoming.zeta.from.+1555')

    const result = await store.write((tx) => fanOut(tx, 5_000))
    expect(result).toEqual({ created: 3, more: false })
    const rows = await deliveries()
    expect(rows.map((r) => [r.subscription_id, r.event_id])).toEqual([
      ['sub_star', read.id],
      ['sub_tail', inc.id],
      ['sub_b', other.id],
    ])
    expect(rows.every((r) => r.state === 'pending' && Number(r.next_attempt_at) === 5_000)).toBe(true)
    expect([deep.id, bare.id].some((id) => rows.some((r) => r.event_id === id))).toBe(false)
  })

  it('advances each cursor so a second pass adds only newer events, and never duplicates', async () => {
    await addSubscription(store, { id: 'sub_1', tenant_id: 'tn_a', topics: JSON.stringify(['>']) })
    await addEvent(store, 'tn_a', 'a.one')
    await store.write((tx) => fanOut(tx, 0))
    expect(await store.write((tx) => fanOut(tx, 0))).toEqual({ created: 0, more: false })
    const second = await addEvent(store, 'tn_a', 'a.two')
    await store.write((tx) => fanOut(tx, 0))
    expect((await deliveries()).map((r) => r.event_id).at(-1)).toBe(second.id)
    expect(await deliveries()).toHaveLength(2)
    const sub = await store.read.selectFrom('subscriptions').select('cursor_seq').where('id', '=', 'sub_1').executeTakeFirstOrThrow()
    expect(Number(sub.cursor_seq)).toBe(2)
  })

  it('does not give a subscription the events from before its cursor', async () => {
    await addEvent(store, 'tn_a', 'a.old')
    await addSubscription(store, { id: 'sub_new', tenant_id: 'tn_a', topics: JSON.stringify(['>']), cursor_seq: 1 })
    const fresh = await addEvent(store, 'tn_a', 'a.new')
    await store.write((tx) => fanOut(tx, 0))
    expect((await deliveries()).map((r) => r.event_id)).toEqual([fresh.id])
  })

  it('skips disabled subscriptions and works through the log in pages', async () => {
    await addSubscription(store, { id: 'sub_off', tenant_id: 'tn_a', topics: JSON.stringify(['>']), state: 'disabled' })
    await addSubscription(store, { id: 'sub_on', tenant_id: 'tn_a', topics: JSON.stringify(['>']) })
    for (let i = 0; i < 5; i++) await addEvent(store, 'tn_a', `a.${i}`)
    expect(await store.write((tx) => fanOut(tx, 0, 2))).toEqual({ created: 2, more: true })
    expect(await store.write((tx) => fanOut(tx, 0, 2))).toEqual({ created: 2, more: true })
    expect(await store.write((tx) => fanOut(tx, 0, 2))).toEqual({ created: 1, more: false })
    const rows = await deliveries()
    expect(rows).toHaveLength(5)
    expect(rows.every((r) => r.subscription_id === 'sub_on')).toBe(true)
  })
})
