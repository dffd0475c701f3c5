import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Webhook } from 'standardwebhooks'
import { metaSandbox } from '../../src/sandbox.js'
import { startCaptureServer, type CaptureServer, type CapturedRequest } from '../harness/capture-server.js'
import { startTestGateway, type TestGateway } from '../harness/gateway.js'
import { header, inbound, logEnd, swHeaders, verifies } from './helpers.js'

// Shrunk retry schedule (the dispatcher reads it from the environment when the gateway starts).
const SCHEDULE = '0,40,80'

describe('events out: webhook subscriptions', () => {
  let t: TestGateway
  const servers: CaptureServer[] = []
  const saved = process.env.WAGATE_DELIVERY_SCHEDULE_MS
  const receiver = async (respond: (req: CapturedRequest) => { status: number; body?: string; headers?: Record<string, string>; hang?: boolean } = () => ({ status: 200 })) => {
    const s = await startCaptureServer(respond)
    servers.push(s)
    return s
  }
  const subscribe = async (url: string, topics: string[], extra: Record<string, unknown> = {}) => {
    const res = await t.api('POST', '/v1/subscriptions', { url, topics, ...extra })
    expect(res.status).toBe(201)
    return res.json as { id: string; secret: string; state: string }
  }
  const byId = (s: CaptureServer, id: string) => s.requests.filter((r) => header(r, 'webhook-id') === id)

  beforeAll(async () => {
    process.env.WAGATE_DELIVERY_SCHEDULE_MS = SCHEDULE
    t = await startTestGateway({ sandboxes: (timings) => [metaSandbox(timings)] })
  })
  afterAll(async () => {
    for (const s of servers) await s.close()
    await t.close()
    if (saved === undefined) delete process.env.WAGATE_DELIVERY_SCHEDULE_MS
    else process.env.WAGATE_DELIVERY_SCHEDULE_MS = saved
  })

  it('refuses bad subscriptions with invalid_request naming the field', async () => {
    const cases: Array<[unknown, string]> = [
      [{ url: 'http://127.0.0.1:9/x', topics: ['a.>.b'] }, 'body.topics.0'],
      [{ url: 'http://127.0.0.1:9/x', topics: ['a..b'] }, 'body.topics.0'],
      [{ url: 'http://127.0.0.1:9/x', topics: [] }, 'body.topics'],
      [{ url: 'ftp://127.0.0.1/x', topics: ['>'] }, 'body.url'],
      [{ url: 'not a url', topics: ['>'] }, 'body.url'],
      [{ url: 'http://127.0.0.1:9/x', topics: ['>'], secret: 'mine' }, 'body'],
    ]
    for (const [body, path] of cases) {
      const res = await t.api('POST', '/v1/subscriptions', body)
      expect(res.status, JSON.stringify(body)).toBe(400)
      expect(res.json.code).toBe('invalid_request')
      expect(res.json.errors.map((e: { path: string }) => e.path)).toContain(path)
    }
  })

  it('returns the whsec_ secret once; reads never show it again', async () => {
    const sub = await subscribe('http://127.0.0.1:9/never', ['never.>'])
    expect(sub.secret).toMatch(/^whsec_[A-Za-z0-9+/]{32,}=*$/)
    expect(sub.state).toBe('active')
    const one = await t.api('GET', `/v1/subscriptions/${sub.id}`)
    expect(one.status).toBe(200)
    expect(one.json).toMatchObject({ id: sub.id, url: 'http://127.0.0.1:9/never', topics: ['never.>'], state: 'active' })
    const list = await t.api('GET', '/v1/subscriptions')
    expect(list.json.data.map((s: { id: string }) => s.id)).toContain(sub.id)
    expect(one.text).not.toContain(sub.secret.slice(6, 20))
    expect(list.text).not.toContain(sub.secret.slice(6, 20))
    expect(t.logs.join('')).not.toContain(sub.secret.slice(6, 20))
    // The secret is stored sealed, not in clear.
    const row = await t.gw.store.read.selectFrom('subscriptions').selectAll().where('id', '=', sub.id).executeTakeFirstOrThrow()
    expect(row.secret_sealed).not.toContain(sub.secret.slice(6))
    expect((await t.api('DELETE', `/v1/subscriptions/${sub.id}`)).status).toBe(204)
    expect((await t.api('GET', `/v1/subscriptions/${sub.id}`)).status).toBe(404)
  })

  it('delivers matching events, each verifying with Webhook.verify; a tampered one does not', async () => {
    const hooks = await receiver()
    const other = await receiver()
    const sub = await subscribe(`${hooks.url}/hooks`, ['incoming.sandbox-meta.>'])
    await subscribe(`${other.url}/hooks`, ['message.*.read'])
    const events = [await inbound(t, 'signed one'), await inbound(t, 'signed two'), await inbound(t, 'signed three')]
    await t.waitFor(async () => events.every((e) => byId(hooks, e.id).length > 0), 15_000, 'three deliveries')

    const log = await t.api('GET', '/v1/events?type=message.inbound&limit=1000')
    for (const e of events) {
      const [req] = byId(hooks, e.id)
      if (!req) throw new Error('missing delivery')
      expect(req.method).toBe('POST')
      expect(req.path).toBe('/hooks')
      expect(header(req, 'content-type')).toContain('application/json')
      // The body is the GET /v1/events item, and the webhook id is the event id.
      expect(req.json).toEqual(log.json.data.find((x: { id: string }) => x.id === e.id))
      expect(new Webhook(sub.secret).verify(req.raw, swHeaders(req))).toEqual(req.json)
      expect(verifies(sub.secret, { ...req, raw: req.raw.replace('signed', 'forged') })).toBe(false)
      expect(verifies(sub.secret, { ...req, headers: { ...req.headers, 'webhook-id': 'evt_other' } })).toBe(false)
      const sig = header(req, 'webhook-signature')
      const flipped = sig.slice(0, -3) + (sig.at(-3) === 'A' ? 'B' : 'A') + sig.slice(-2)
      expect(verifies(sub.secret, { ...req, headers: { ...req.headers, 'webhook-signature': flipped } })).toBe(false)
    }
    // Topic patterns filter: the other subscription wants only read statuses.
    expect(other.requests.filter((r) => events.some((e) => e.id === header(r, 'webhook-id')))).toEqual([])

    const deliveries = await t.api('GET', `/v1/subscriptions/${sub.id}/deliveries`)
    expect(deliveries.status).toBe(200)
    const mine = deliveries.json.data.filter((d: { event_id: string }) => events.some((e) => e.id === d.event_id))
    expect(mine).toHaveLength(3)
    for (const d of mine) {
      expect(d).toMatchObject({ state: 'delivered', attempts: 1, last_status: 200, event_type: 'message.inbound' })
      expect(d.attempt_log).toHaveLength(1)
      expect(d.attempt_log[0]).toMatchObject({ attempt: 1, status_code: 200 })
      expect(d.attempt_log[0].latency_ms).toBeGreaterThanOrEqual(0)
    }
  })

  it('retries a failing endpoint on the schedule and logs every attempt', async () => {
    let calls = 0
    const flaky = await receiver(() => (++calls <= 2 ? { status: 503, body: 'busy' } : { status: 200 }))
    const sub = await subscribe(flaky.url, ['incoming.sandbox-meta.>'])
    const e = await inbound(t, 'flaky endpoint')
    const delivered = await t.waitFor(async () => {
      const r = await t.api('GET', `/v1/subscriptions/${sub.id}/deliveries?state=delivered`)
      return r.json.data.find((d: { event_id: string }) => d.event_id === e.id)
    }, 15_000, 'delivered after retries')
    expect(delivered.attempts).toBe(3)
    expect(delivered.attempt_log.map((a: { status_code: number }) => a.status_code)).toEqual([503, 503, 200])
    expect(delivered.attempt_log[0].response_excerpt).toBe('busy')
    const ids = byId(flaky, e.id)
    expect(ids).toHaveLength(3)
    // Each attempt is signed afresh, and each verifies.
    expect(ids.every((r) => verifies(sub.secret, r))).toBe(true)
  })

  it('retries a delivery on request and replays events after a cursor', async () => {
    const hooks = await receiver()
    const sub = await subscribe(hooks.url, ['incoming.sandbox-meta.>'])
    const from = await logEnd(t)
    const a = await inbound(t, 'replay a')
    const b = await inbound(t, 'replay b')
    await t.waitFor(async () => byId(hooks, a.id).length === 1 && byId(hooks, b.id).length === 1, 15_000, 'first deliveries')

    const list = await t.api('GET', `/v1/subscriptions/${sub.id}/deliveries`)
    const delivery = list.json.data.find((d: { event_id: string }) => d.event_id === a.id)
    const retried = await t.api('POST', `/v1/subscriptions/${sub.id}/deliveries/${delivery.id}/retry`)
    expect(retried.status).toBe(202)
    await t.waitFor(async () => byId(hooks, a.id).length === 2, 15_000, 'manual retry')
    expect(byId(hooks, b.id)).toHaveLength(1)

    const replay = await t.api('POST', `/v1/subscriptions/${sub.id}/replay?from=${from}`)
    expect(replay.status).toBe(202)
    expect(replay.json.enqueued).toBe(2)
    await t.waitFor(async () => byId(hooks, a.id).length === 3 && byId(hooks, b.id).length === 2, 15_000, 'replayed deliveries')
    expect([...byId(hooks, a.id), ...byId(hooks, b.id)].every((r) => verifies(sub.secret, r))).toBe(true)

    expect((await t.api('POST', `/v1/subscriptions/${sub.id}/replay?from=garbage`)).json.code).toBe('invalid_cursor')
    expect((await t.api('POST', `/v1/subscriptions/${sub.id}/deliveries/dlv_nope/retry`)).status).toBe(404)
  })

  it('a 410 disables the endpoint and emits subscription.disabled to other subscribers', async () => {
    const gone = await receiver(() => ({ status: 410 }))
    const watcher = await receiver()
    const watch = await subscribe(watcher.url, ['subscription.>'])
    const sub = await subscribe(gone.url, ['incoming.sandbox-meta.>'])
    await inbound(t, 'to a gone endpoint')
    const disabled = await t.waitFor(async () => {
      const r = await t.api('GET', `/v1/subscriptions/${sub.id}`)
      return r.json.state === 'disabled' ? r.json : undefined
    }, 15_000, 'disabled subscription')
    expect(disabled.disabled_reason).toMatch(/410/)
    expect(gone.requests).toHaveLength(1)

    const event = await t.waitFor(async () => {
      const r = await t.api('GET', '/v1/events?type=subscription.disabled&limit=1000')
      return r.json.data.find((e: { data: { subscription: { id: string } } }) => e.data.subscription.id === sub.id)
    }, 15_000, 'subscription.disabled event')
    expect(event.topic).toBe(`subscription.${sub.id}.disabled`)
    const seen = await t.waitFor(async () => watcher.requests.find((r) => header(r, 'webhook-id') === event.id), 15_000, 'watcher got the event')
    expect(verifies(watch.secret, seen)).toBe(true)

    // Disabled: later events are not sent to it.
    await inbound(t, 'after the 410')
    await t.waitFor(async () => watcher.requests.length >= 1, 5_000)
    const failed = await t.api('GET', `/v1/subscriptions/${sub.id}/deliveries`)
    expect(failed.json.data.find((d: { last_status: number }) => d.last_status === 410)?.state).toBe('failed')
    expect(gone.requests).toHaveLength(1)
  })

  it('a delivery failing past the whole schedule disables an endpoint that never succeeded', async () => {
    const down = await receiver(() => ({ status: 500 }))
    const sub = await subscribe(down.url, ['incoming.sandbox-meta.>'])
    const e = await inbound(t, 'to a broken endpoint')
    await t.waitFor(async () => (await t.api('GET', `/v1/subscriptions/${sub.id}`)).json.state === 'disabled', 15_000, 'disabled after the schedule')
    // First attempt + one retry per interval of the schedule.
    expect(byId(down, e.id)).toHaveLength(1 + SCHEDULE.split(',').length)
    const [d] = (await t.api('GET', `/v1/subscriptions/${sub.id}/deliveries`)).json.data
    expect(d).toMatchObject({ event_id: e.id, state: 'failed', last_status: 500 })
  })

  it('does not follow redirects', async () => {
    const target = await receiver()
    const redirecting = await receiver(() => ({ status: 307, headers: { location: `${target.url}/elsewhere` } }))
    const sub = await subscribe(redirecting.url, ['incoming.sandbox-meta.>'], {})
    const e = await inbound(t, 'redirected')
    await t.waitFor(async () => byId(redirecting, e.id).length >= 2, 15_000, 'two attempts')
    expect(target.requests).toHaveLength(0)
    const [d] = (await t.api('GET', `/v1/subscriptions/${sub.id}/deliveries`)).json.data
    expect(d.last_status).toBe(307)
    expect(d.state).not.toBe('delivered')
    await t.api('DELETE', `/v1/subscriptions/${sub.id}`)
  })

  it('a slow endpoint holds only its own slots; others keep receiving', async () => {
    const slow = await receiver(() => ({ status: 200, hang: true }))
    const fast = await receiver()
    const slowSub = await subscribe(slow.url, ['incoming.sandbox-meta.>'], { max_in_flight: 2, timeout_ms: 60_000 })
    await subscribe(fast.url, ['incoming.sandbox-meta.>'])
    const events: Array<{ id: string }> = []
    for (let i = 0; i < 5; i++) events.push(await inbound(t, `busy ${i}`))
    await t.waitFor(async () => events.every((e) => byId(fast, e.id).length === 1), 15_000, 'fast endpoint got all five')
    // The slow one never answered (60 s timeout), yet holds no more than its two slots.
    expect(slow.requests).toHaveLength(2)
    const pending = await t.api('GET', `/v1/subscriptions/${slowSub.id}/deliveries?state=pending`)
    expect(pending.json.data).toHaveLength(5)
    await t.api('DELETE', `/v1/subscriptions/${slowSub.id}`)
  })

  it('keeps tenants apart', async () => {
    const { createTenant } = await import('../../src/engine/tenants.js')
    const other = await createTenant(t.gw.store, { now: () => Date.now() }, `other-${Date.now()}`)
    const sub = await subscribe('http://127.0.0.1:9/x', ['>'])
    const res = await t.api('GET', `/v1/subscriptions/${sub.id}`, undefined, { authorization: `Bearer ${other.apiKey}` })
    expect(res.status).toBe(404)
    const list = await t.api('GET', '/v1/subscriptions', undefined, { authorization: `Bearer ${other.apiKey}` })
    expect(list.json.data).toEqual([])
    await t.api('DELETE', `/v1/subscriptions/${sub.id}`)
  })
})
