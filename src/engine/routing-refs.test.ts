import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { openStore, type Store } from '../store/db.js'
import {
  activeRefs,
  applyOutboundRefs,
  cancelSession,
  consumeNextReply,
  hours,
  mergeRoutingRefs,
  minutes,
  moveSession,
  routeInbound,
  setNextReply,
  setSession,
  type RefsKey,
} from './routing-refs.js'

/** Session / next-reply refs against a real (in-memory) store. */
const NOW = Date.UTC(2026, 10, 21, 12)
const key: RefsKey = { tenantId: 'ten_1', accountId: 'acc_1', contactId: 'ct_1' }
const facts = { account: 'acme', from: '+14155550123', commands: true }

describe('routing refs', () => {
  let store: Store
  beforeEach(async () => {
    store = await openStore({ dataDir: ':memory:' })
  })
  afterEach(async () => store.close())

  const refs = (at = NOW) => activeRefs(store.read, key, at)

  it('a session is active until its expiry; set replaces ref and expiry', async () => {
    await store.write((tx) => setSession(tx, key, 'a', hours(2), NOW))
    expect(await refs()).toEqual({ session: { ref: 'a', expiresAt: NOW + hours(2) } })
    expect(await refs(NOW + hours(2))).toEqual({})
    await store.write((tx) => setSession(tx, key, 'b', hours(1), NOW + 10))
    expect(await refs()).toEqual({ session: { ref: 'b', expiresAt: NOW + 10 + hours(1) } })
  })

  it('move keeps the expiry (or takes a new TTL) and needs an active session', async () => {
    expect(await store.write((tx) => moveSession(tx, key, 'x', NOW))).toBe(false)
    await store.write((tx) => setSession(tx, key, 'a', hours(2), NOW))
    expect(await store.write((tx) => moveSession(tx, key, 'b', NOW + 5))).toBe(true)
    expect((await refs()).session).toEqual({ ref: 'b', expiresAt: NOW + hours(2) })
    expect(await store.write((tx) => moveSession(tx, key, 'c', NOW + 5, hours(5)))).toBe(true)
    expect((await refs()).session).toEqual({ ref: 'c', expiresAt: NOW + 5 + hours(5) })
    expect(await store.write((tx) => moveSession(tx, key, 'd', NOW + hours(6)))).toBe(false)
  })

  it('session and next-reply are independent: cancelling one keeps the other', async () => {
    await store.write(async (tx) => {
      await setSession(tx, key, 's', hours(1), NOW)
      await setNextReply(tx, key, 'n', minutes(5), NOW)
    })
    await store.write((tx) => cancelSession(tx, key, NOW))
    expect(await refs()).toEqual({ nextreply: { ref: 'n', expiresAt: NOW + minutes(5) } })
  })

  it('applyOutboundRefs: move_to without a session starts one with the default 24 h; cancel ends it', async () => {
    await store.write((tx) => applyOutboundRefs(tx, key, { session: { move_to: 'm' }, nextreply: { ref: 'n' } }, NOW))
    expect(await refs()).toEqual({ session: { ref: 'm', expiresAt: NOW + hours(24) }, nextreply: { ref: 'n', expiresAt: NOW + minutes(30) } })
    await store.write((tx) => applyOutboundRefs(tx, key, { session: { cancel: true }, nextreply: { cancel: true } }, NOW))
    expect(await refs()).toEqual({})
  })

  it('a next-reply ref is consumed once, only by commit(), and not by a command', async () => {
    await store.write((tx) => setNextReply(tx, key, 'n', minutes(5), NOW))
    // A command outranks it and leaves it in place.
    const cmd = await store.write(async (tx) => (await routeInbound(tx, key, { ...facts, text: '/stop' }, NOW)).commit())
    expect(cmd.kind).toBe('command')
    // Routed but not committed (a duplicate delivery): still there.
    const dup = await store.write(async (tx) => (await routeInbound(tx, key, { ...facts, text: 'hi' }, NOW)).decision)
    expect(dup.kind).toBe('nextreply')
    expect((await refs()).nextreply?.ref).toBe('n')
    const first = await store.write(async (tx) => (await routeInbound(tx, key, { ...facts, text: 'hi' }, NOW)).commit())
    expect(first).toMatchObject({ kind: 'nextreply', ref: 'n' })
    const second = await store.write(async (tx) => (await routeInbound(tx, key, { ...facts, text: 'again' }, NOW)).commit())
    expect(second.kind).toBe('unsolicited')
  })

  it('of two messages that both saw the next-reply ref, only one takes it; the other falls to the session', async () => {
    await store.write(async (tx) => {
      await setSession(tx, key, 's', hours(1), NOW)
      await setNextReply(tx, key, 'n', minutes(5), NOW)
    })
    const [a, b] = await store.write(async (tx) => {
      const ra = await routeInbound(tx, key, { ...facts, text: 'a' }, NOW)
      const rb = await routeInbound(tx, key, { ...facts, text: 'b' }, NOW)
      return [await ra.commit(), await rb.commit()]
    })
    expect(a).toMatchObject({ kind: 'nextreply', ref: 'n' })
    expect(b).toMatchObject({ kind: 'session', ref: 's', topic: 'incoming.acme.session.s' })
  })

  it('consumeNextReply ignores an expired or different ref', async () => {
    await store.write((tx) => setNextReply(tx, key, 'n', minutes(5), NOW))
    expect(await store.write((tx) => consumeNextReply(tx, key, 'other', NOW))).toBe(false)
    expect(await store.write((tx) => consumeNextReply(tx, key, 'n', NOW + minutes(5)))).toBe(false)
    expect(await store.write((tx) => consumeNextReply(tx, key, 'n', NOW))).toBe(true)
  })

  it('a contact merge keeps the survivor’s active refs and takes the other’s where it has none', async () => {
    const gone: RefsKey = { ...key, contactId: 'ct_2' }
    const otherAccount: RefsKey = { ...key, accountId: 'acc_2', contactId: 'ct_2' }
    await store.write(async (tx) => {
      await setSession(tx, key, 'mine', hours(1), NOW)
      await setSession(tx, gone, 'theirs', hours(3), NOW)
      await setNextReply(tx, gone, 'their-next', minutes(5), NOW)
      await setSession(tx, otherAccount, 'elsewhere', hours(1), NOW)
      await mergeRoutingRefs(tx, key.contactId, gone.contactId, NOW)
    })
    expect(await refs()).toEqual({ session: { ref: 'mine', expiresAt: NOW + hours(1) }, nextreply: { ref: 'their-next', expiresAt: NOW + minutes(5) } })
    expect(await activeRefs(store.read, { accountId: 'acc_2', contactId: 'ct_1' }, NOW)).toEqual({ session: { ref: 'elsewhere', expiresAt: NOW + hours(1) } })
    expect(await store.read.selectFrom('routing_refs').select('contact_id').where('contact_id', '=', 'ct_2').execute()).toEqual([])
  })
})
