import { randomBytes } from 'node:crypto'
import { connect, type NatsConnection } from 'nats'
import { Redis } from 'ioredis'
import { Webhook } from 'standardwebhooks'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { metaSandbox } from '../../src/sandbox.js'
import { startTestGateway, type TestGateway } from '../harness/gateway.js'
import { inbound, logEnd } from './helpers.js'
import { unreachable } from '../harness/net.js'

// Broker sinks against the NATS (JetStream) and Redis servers of the machine. Without them the
// suites are skipped with the reason printed, unless WAGATE_TEST_REQUIRE_SERVICES is set (CI), where
// a missing server fails the run.
const REQUIRED = Boolean(process.env.WAGATE_TEST_REQUIRE_SERVICES)
const NATS_URL = process.env.WAGATE_TEST_NATS_URL ?? 'nats://127.0.0.1:4222'
const REDIS_URL = process.env.WAGATE_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'
const SCHEDULE = '0,100,200,400,800,1600,3200'


const natsDown = await unreachable(NATS_URL, 4222)
const redisDown = await unreachable(REDIS_URL, 6379)
for (const [name, down] of [['NATS', natsDown], ['Redis', redisDown]] as const) {
  if (down && !REQUIRED) console.warn(`[events/sinks] skipping the ${name} sink tests: ${down} (set WAGATE_TEST_REQUIRE_SERVICES to make this a failure)`)
}

let t: TestGateway
const saved = process.env.WAGATE_DELIVERY_SCHEDULE_MS
beforeAll(async () => {
  if (REQUIRED && (natsDown || redisDown)) throw new Error(`WAGATE_TEST_REQUIRE_SERVICES is set but ${[natsDown, redisDown].filter(Boolean).join('; ')}`)
  if (natsDown && redisDown) return
  process.env.WAGATE_DELIVERY_SCHEDULE_MS = SCHEDULE
  t = await startTestGateway({ sandboxes: (timings) => [metaSandbox(timings)] })
})
afterAll(async () => {
  await t?.close()
  if (saved === undefined) delete process.env.WAGATE_DELIVERY_SCHEDULE_MS
  else process.env.WAGATE_DELIVERY_SCHEDULE_MS = saved
})

const eventItem = async (id: string) => {
  const r = await t.api('GET', '/v1/events?limit=1000')
  return (r.json.data as Array<{ id: string }>).find((e) => e.id === id)
}

describe.skipIf(Boolean(natsDown) && !REQUIRED)('events out: NATS JetStream sink', () => {
  let nc: NatsConnection
  const tag = `wgt${randomBytes(4).toString('hex')}`
  const streams: string[] = []
  beforeAll(async () => {
    nc = await connect({ servers: new URL(NATS_URL).host })
  })
  afterAll(async () => {
    const jsm = await nc.jetstreamManager()
    for (const s of streams) await jsm.streams.delete(s).catch(() => undefined)
    await nc.drain()
  })
  const addStream = async (name: string, subject: string) => {
    const jsm = await nc.jetstreamManager()
    await jsm.streams.add({ name, subjects: [subject] })
    streams.push(name)
  }

  it('publishes each matching event on prefix + topic with Nats-Msg-Id = event id, signed; a replay is deduped', async () => {
    const stream = `${tag}_ok`.toUpperCase()
    await addStream(stream, `${tag}.ok.>`)
    const created = await t.api('POST', '/v1/subscriptions', { kind: 'nats', url: NATS_URL, subject_prefix: `${tag}.ok.`, topics: ['incoming.sandbox-meta.>'] })
    expect(created.status).toBe(201)
    expect(created.json).toMatchObject({ kind: 'nats', max_in_flight: 1, target: { subject_prefix: `${tag}.ok.` } })
    expect(JSON.stringify(created.json.target)).not.toContain('sealed')
    const from = await logEnd(t)
    const a = await inbound(t, 'to nats a')
    const b = await inbound(t, 'to nats b')
    const jsm = await nc.jetstreamManager()
    await t.waitFor(async () => (await jsm.streams.info(stream)).state.messages === 2, 15_000, 'two messages in the stream')

    for (const [seq, e] of [[1, a], [2, b]] as const) {
      const msg = await jsm.streams.getMessage(stream, { seq })
      expect(msg.subject).toBe(`${tag}.ok.${e.topic}`)
      expect(msg.header.get('Nats-Msg-Id')).toBe(e.id)
      const body = new TextDecoder().decode(msg.data)
      expect(JSON.parse(body)).toEqual(await eventItem(e.id))
      const headers = { 'webhook-id': msg.header.get('webhook-id'), 'webhook-timestamp': msg.header.get('webhook-timestamp'), 'webhook-signature': msg.header.get('webhook-signature') }
      expect(new Webhook(created.json.secret).verify(body, headers)).toEqual(JSON.parse(body))
    }

    // Replayed within JetStream's duplicate window: acknowledged as duplicates, not stored twice.
    const replay = await t.api('POST', `/v1/subscriptions/${created.json.id}/replay?from=${from}`)
    expect(replay.json.enqueued).toBe(2)
    await t.waitFor(async () => {
      const r = await t.api('GET', `/v1/subscriptions/${created.json.id}/deliveries`)
      return r.json.data.every((d: { state: string; attempts: number }) => d.state === 'delivered' && d.attempts === 2)
    }, 15_000, 'replayed deliveries acknowledged')
    expect((await jsm.streams.info(stream)).state.messages).toBe(2)
    const [d] = (await t.api('GET', `/v1/subscriptions/${created.json.id}/deliveries`)).json.data
    expect(d.attempt_log.at(-1).response_excerpt).toMatch(/duplicate/)
  })

  it('keeps retrying while no stream takes the subject, then delivers once one does (at least once)', async () => {
    const created = await t.api('POST', '/v1/subscriptions', { kind: 'nats', url: NATS_URL, subject_prefix: `${tag}.late.`, topics: ['incoming.sandbox-meta.>'], timeout_ms: 1_000 })
    const e = await inbound(t, 'to nats before the stream exists')
    await t.waitFor(async () => {
      const r = await t.api('GET', `/v1/subscriptions/${created.json.id}/deliveries`)
      return r.json.data[0]?.attempts >= 2
    }, 15_000, 'failed attempts')
    const stream = `${tag}_late`.toUpperCase()
    await addStream(stream, `${tag}.late.>`)
    const delivered = await t.waitFor(async () => {
      const r = await t.api('GET', `/v1/subscriptions/${created.json.id}/deliveries?state=delivered`)
      return r.json.data[0]
    }, 20_000, 'delivered after the stream appeared')
    expect(delivered.event_id).toBe(e.id)
    expect(delivered.attempt_log[0].error).toBeTruthy()
    const jsm = await nc.jetstreamManager()
    expect((await jsm.streams.getMessage(stream, { seq: 1 })).header.get('Nats-Msg-Id')).toBe(e.id)
  })
})

describe.skipIf(Boolean(redisDown) && !REQUIRED)('events out: Redis stream sink', () => {
  let redis: Redis
  const key = `wagate-test:${randomBytes(4).toString('hex')}`
  beforeAll(() => {
    redis = new Redis(REDIS_URL)
  })
  afterAll(async () => {
    await redis.del(key)
    await redis.quit()
  })

  it('appends each matching event to the stream with the event id as its dedupe field, signed', async () => {
    const created = await t.api('POST', '/v1/subscriptions', { kind: 'redis', url: REDIS_URL, stream: key, topics: ['incoming.sandbox-meta.>'] })
    expect(created.status).toBe(201)
    expect(created.json).toMatchObject({ kind: 'redis', target: { stream: key } })
    const a = await inbound(t, 'to redis a')
    const b = await inbound(t, 'to redis b')
    await t.waitFor(async () => (await redis.xlen(key)) === 2, 15_000, 'two stream entries')
    const entries = await redis.xrange(key, '-', '+')
    const asObjects = entries.map(([, flat]) => Object.fromEntries(flat.flatMap((v, i, all) => (i % 2 === 0 ? [[v, all[i + 1] ?? '']] : []))) as Record<string, string>)
    expect(asObjects.map((f) => f.id)).toEqual([a.id, b.id])
    for (const [i, e] of [a, b].entries()) {
      const f = asObjects[i] ?? {}
      expect(f).toMatchObject({ type: 'message.inbound', topic: e.topic })
      expect(JSON.parse(f.envelope ?? '')).toEqual(await eventItem(e.id))
      const verified = new Webhook(created.json.secret).verify(f.envelope ?? '', { 'webhook-id': f.id ?? '', 'webhook-timestamp': f['webhook-timestamp'] ?? '', 'webhook-signature': f['webhook-signature'] ?? '' })
      expect(verified).toEqual(JSON.parse(f.envelope ?? ''))
    }
  })

  it('never shows the broker password back, and logs an unreachable broker as failed attempts', async () => {
    const created = await t.api('POST', '/v1/subscriptions', { kind: 'redis', url: 'redis://:hunter2-secret@127.0.0.1:1', stream: key, topics: ['incoming.sandbox-meta.>'], timeout_ms: 500 })
    expect(created.status).toBe(201)
    expect(created.text).not.toContain('hunter2-secret')
    expect(created.json.url).toBe('redis://:***@127.0.0.1:1')
    const e = await inbound(t, 'to an unreachable redis')
    const failing = await t.waitFor(async () => {
      const r = await t.api('GET', `/v1/subscriptions/${created.json.id}/deliveries`)
      return r.json.data.find((d: { event_id: string; attempts: number }) => d.event_id === e.id && d.attempts >= 2)
    }, 15_000, 'failed attempts')
    expect(failing.state).not.toBe('delivered')
    expect(failing.attempt_log[0].error).toBeTruthy()
    expect((await t.api('GET', `/v1/subscriptions/${created.json.id}`)).text).not.toContain('hunter2-secret')
    expect(t.logs.join('')).not.toContain('hunter2-secret')
    await t.api('DELETE', `/v1/subscriptions/${created.json.id}`)
  })

  it('refuses a URL that does not fit the kind', async () => {
    const res = await t.api('POST', '/v1/subscriptions', { kind: 'redis', url: 'http://127.0.0.1/x', topics: ['>'] })
    expect(res.status).toBe(400)
    expect(res.json.errors.map((e: { path: string }) => e.path)).toContain('body.url')
    const misplaced = await t.api('POST', '/v1/subscriptions', { url: 'http://127.0.0.1/x', topics: ['>'], stream: 'x' })
    expect(misplaced.json.errors.map((e: { path: string }) => e.path)).toContain('body.stream')
  })
})
