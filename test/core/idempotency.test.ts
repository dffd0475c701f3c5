import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ApiError } from '../../src/engine/api-error.js'
import { systemClock } from '../../src/engine/clock.js'
import { createIdempotency, IN_FLIGHT_STALE_MS } from '../../src/engine/idempotency.js'
import { parseSendRequest } from '../../src/engine/send-request.js'
import { createTenant } from '../../src/engine/tenants.js'
import type { TestGateway } from '../harness/gateway.js'
import { allMessages, META, startMetaGateway } from './helpers.js'

/**
 * Acceptance: `Idempotency-Key` on POST /v1/messages (draft-ietf-httpapi-idempotency-key-header
 * semantics, DESIGN §11): same key + same body replays the first response and sends once; same key
 * + another body is a 422; a key whose first request is still in flight is a 409.
 */

const body = (text: string) => ({ account: META, to: '+14155550123', type: 'text', text })

describe('Idempotency-Key over HTTP', () => {
  let t: TestGateway
  beforeAll(async () => {
    t = await startMetaGateway()
  })
  afterAll(async () => t.close())

  const sim = () => t.sandbox.simulators.get(t.sandbox.accounts[0]!.row.id)!
  const post = (b: unknown, key: string) => t.api('POST', '/v1/messages', b, { 'idempotency-key': key })

  it('same key + same body: the first response is replayed (same id, idempotent-replayed header) and one message is sent', async () => {
    const first = await post(body('once'), 'key-same-1')
    expect(first.status).toBe(202)
    expect(first.headers['idempotent-replayed']).toBeUndefined()
    // Same JSON with keys in another order is the same request.
    const reordered = { text: 'once', type: 'text', to: '+14155550123', account: META }
    for (const again of [body('once'), reordered, body('once')]) {
      const replay = await post(again, 'key-same-1')
      expect(replay.status).toBe(202)
      expect(replay.json).toEqual(first.json)
      expect(replay.headers['idempotent-replayed']).toBe('true')
    }
    const mine = (await allMessages(t)).filter((m) => m.text === 'once')
    expect(mine.map((m) => m.id)).toEqual([first.json.id])
    // …and the provider got it exactly once, even after it was read.
    await t.waitFor(async () => (await t.api('GET', `/v1/messages/${first.json.id}`)).json.status === 'read', 10_000, 'read')
    expect(sim().sent().filter((r) => r.clientRef === first.json.id)).toHaveLength(1)
    expect(sim().stats().duplicates).toBe(0)
  })

  it('same key + another body: 422 idempotency_key_reused, nothing new written', async () => {
    const first = await post(body('first body'), 'key-reused-1')
    expect(first.status).toBe(202)
    const count = (await allMessages(t)).length
    const other = await post(body('second body'), 'key-reused-1')
    expect(other.status).toBe(422)
    expect(other.headers['content-type']).toMatch(/^application\/problem\+json/)
    expect(other.json.code).toBe('idempotency_key_reused')
    expect(other.json.detail).toMatch(/\w+ \w+ \w+/)
    expect(await allMessages(t)).toHaveLength(count)
    expect((await allMessages(t)).some((m) => m.text === 'second body')).toBe(false)
    // The original is still replayable with its own body.
    const replay = await post(body('first body'), 'key-reused-1')
    expect(replay.json.id).toBe(first.json.id)
  })

  it('while the first request with the key is in flight: 409 idempotency_key_in_flight, then the completed response replays', async () => {
    // Hold the key in flight deterministically: begin it through the engine on the gateway's own store
    // (the key's state lives in the store, so this is what a concurrent first request looks like).
    const idem = createIdempotency(t.gw.store, systemClock)
    const b = body('in flight')
    const begun = await idem.begin(t.gw.tenantId, 'key-flight-1', b)
    if (begun.kind !== 'new') throw new Error('expected a new key')
    const count = (await allMessages(t)).length
    const during = await post(b, 'key-flight-1')
    expect(during.status).toBe(409)
    expect(during.headers['content-type']).toMatch(/^application\/problem\+json/)
    expect(during.json.code).toBe('idempotency_key_in_flight')
    expect(await allMessages(t)).toHaveLength(count)
    // Another body under an in-flight key is still the reuse error, not a 409.
    expect((await post(body('other'), 'key-flight-1')).json.code).toBe('idempotency_key_reused')
    await idem.complete(t.gw.tenantId, 'key-flight-1', begun.since, 202, { id: 'msg_fromthefirstrequest', status: 'queued' })
    const after = await post(b, 'key-flight-1')
    expect(after.status).toBe(202)
    expect(after.json).toEqual({ id: 'msg_fromthefirstrequest', status: 'queued' })
    expect(after.headers['idempotent-replayed']).toBe('true')
  })

  it('a key left in flight by a request that died before its transaction is taken over by the retry', async () => {
    // The first request began the key a minute ago and its process died: no message was written.
    const past = { now: () => Date.now() - IN_FLIGHT_STALE_MS - 1_000 }
    const dead = await createIdempotency(t.gw.store, past).begin(t.gw.tenantId, 'key-crash-1', body('after a crash'))
    if (dead.kind !== 'new') throw new Error('expected a new key')
    const retry = await post(body('after a crash'), 'key-crash-1')
    expect(retry.status, retry.text).toBe(202)
    expect(retry.headers['idempotent-replayed']).toBeUndefined()
    expect((await allMessages(t)).filter((m) => m.text === 'after a crash').map((m) => m.id)).toEqual([retry.json.id])
    // The dead request cannot complete over the retry's answer…
    const late = await createIdempotency(t.gw.store, systemClock).complete(t.gw.tenantId, 'key-crash-1', dead.since, 202, { id: 'msg_stale' }).catch((e: unknown) => e)
    expect((late as ApiError).code).toBe('idempotency_key_in_flight')
    // …and the retry's answer is what replays.
    const replay = await post(body('after a crash'), 'key-crash-1')
    expect(replay.json.id).toBe(retry.json.id)
    expect(replay.headers['idempotent-replayed']).toBe('true')
  })

  it('the message and the stored response commit together: if storing the response fails, no message is written', async () => {
    const count = (await allMessages(t)).length
    const outcome = await t.gw.messages
      .accept(t.gw.tenantId, parseSendRequest(body('all or nothing')), undefined, async () => {
        throw new Error('the key was taken over')
      })
      .catch((e: unknown) => e)
    expect(outcome).toBeInstanceOf(Error)
    expect(await allMessages(t)).toHaveLength(count)
    const queued = await t.gw.store.read.selectFrom('outbox').innerJoin('messages', 'messages.id', 'outbox.message_id').select('messages.content').execute()
    expect(queued.some((q) => q.content.includes('all or nothing'))).toBe(false)
  })

  it('identical requests racing with one key: one message, the others get 409 or the replay, never a second send', async () => {
    const results = await Promise.all(Array.from({ length: 6 }, () => post(body('race'), 'key-race-1')))
    const statuses = results.map((r) => r.status)
    expect(statuses.every((s) => s === 202 || s === 409), JSON.stringify(statuses)).toBe(true)
    const created = results.filter((r) => r.status === 202 && r.headers['idempotent-replayed'] === undefined)
    expect(created).toHaveLength(1)
    for (const r of results.filter((x) => x.status === 202)) expect(r.json.id).toBe(created[0]!.json.id)
    for (const r of results.filter((x) => x.status === 409)) expect(r.json.code).toBe('idempotency_key_in_flight')
    expect((await allMessages(t)).filter((m) => m.text === 'race')).toHaveLength(1)
  })

  it('a request refused by validation leaves the key free, so the fixed request can use it', async () => {
    const bad = await post({ ...body('fixed'), to: '12' }, 'key-fix-1')
    expect(bad.status).toBe(422)
    expect(bad.json.code).toBe('invalid_recipient')
    const good = await post(body('fixed'), 'key-fix-1')
    expect(good.status).toBe(202)
    expect(good.headers['idempotent-replayed']).toBeUndefined()
  })

  it('an invalid key is a 400 invalid_idempotency_key and writes nothing', async () => {
    const count = (await allMessages(t)).length
    const res = await post(body('bad key'), 'k'.repeat(256))
    expect(res.status).toBe(400)
    expect(res.json.code).toBe('invalid_idempotency_key')
    expect(await allMessages(t)).toHaveLength(count)
  })
})

describe('idempotency engine: begin twice before complete', () => {
  let t: TestGateway
  beforeAll(async () => {
    t = await startMetaGateway()
  })
  afterAll(async () => t.close())

  it('the second begin is a 409 while the first is open, a replay once completed, a 422 for another body', async () => {
    const idem = createIdempotency(t.gw.store, systemClock)
    const tenant = t.gw.tenantId
    const first = await idem.begin(tenant, 'k1', { a: 1 })
    expect(first).toMatchObject({ kind: 'new' })
    if (first.kind !== 'new') return
    const second = await idem.begin(tenant, 'k1', { a: 1 }).catch((e: unknown) => e)
    expect(second).toBeInstanceOf(ApiError)
    expect((second as ApiError).code).toBe('idempotency_key_in_flight')
    await idem.complete(tenant, 'k1', first.since, 202, { id: 'msg_x' })
    expect(await idem.begin(tenant, 'k1', { a: 1 })).toEqual({ kind: 'replay', status: 202, body: { id: 'msg_x' } })
    const reused = await idem.begin(tenant, 'k1', { a: 2 }).catch((e: unknown) => e)
    expect((reused as ApiError).code).toBe('idempotency_key_reused')
  })

  it('two begins in the same tick (one group commit): exactly one is new', async () => {
    const idem = createIdempotency(t.gw.store, systemClock)
    const outcomes = await Promise.allSettled([idem.begin(t.gw.tenantId, 'k2', { b: 1 }), idem.begin(t.gw.tenantId, 'k2', { b: 1 })])
    const news = outcomes.filter((o) => o.status === 'fulfilled' && o.value.kind === 'new')
    const conflicts = outcomes.filter((o) => o.status === 'rejected' && (o.reason as ApiError).code === 'idempotency_key_in_flight')
    expect(news).toHaveLength(1)
    expect(conflicts).toHaveLength(1)
  })

  it('keys are per tenant: the same key in another tenant is a new request', async () => {
    const idem = createIdempotency(t.gw.store, systemClock)
    await idem.begin(t.gw.tenantId, 'k3', { c: 1 })
    const other = await createTenant(t.gw.store, systemClock, 'other')
    expect(other.tenantId).not.toBe(t.gw.tenantId)
    expect(await idem.begin(other.tenantId, 'k3', { c: 1 })).toMatchObject({ kind: 'new' })
  })
})
