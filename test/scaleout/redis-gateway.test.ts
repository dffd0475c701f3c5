import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { appendEvent } from '../../src/engine/events.js'
import { connectRedis, type RedisConnections } from '../../src/engine/redis.js'
import { createRedisNotifier } from '../../src/engine/redis-notify.js'
import type { Notifier } from '../../src/engine/notify.js'
import { createLogger } from '../../src/logger.js'
import { metaSandbox } from '../../src/sandbox.js'
import { assertRedis, REDIS_URL, redisSkipped, warnIfSkipped } from '../conformance/redis-service.js'
import { openStream } from '../events/helpers.js'
import { startTcpProxy, type TcpProxy } from '../faults/tcp-proxy.js'
import { startTestGateway, type TestGateway } from '../harness/gateway.js'

// A gateway with WAGATE_REDIS_URL (on the embedded store): its limiter state lives in Redis, and
// another instance's notifications wake its worker and its SSE streams. "Another instance" is a
// bare notifier here; two gateways sharing a store are in roles-postgres.test.ts.

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))
const logger = createLogger({ level: 'silent' })

warnIfSkipped('the gateway-on-Redis tests')
describe.skipIf(redisSkipped)('gateway with WAGATE_REDIS_URL', () => {
  let t: TestGateway
  let other: { redis: RedisConnections; notifier: Notifier }
  let admin: Redis
  beforeAll(async () => {
    assertRedis()
    t = await startTestGateway({ env: { WAGATE_REDIS_URL: REDIS_URL }, sandboxes: (timings) => [metaSandbox(timings)] })
    const redis = connectRedis(REDIS_URL, logger)
    redis.connect()
    other = { redis, notifier: createRedisNotifier({ publisher: redis.commands, subscriber: redis.subscriber, logger }) }
    admin = new Redis(REDIS_URL)
  })
  afterAll(async () => {
    await other?.notifier.close()
    await other?.redis.close()
    await admin?.quit()
    await t?.close()
  })

  it('paces sends with the limiter held in Redis (wagate:rl:<account id>)', async () => {
    const account = await t.gw.store.read.selectFrom('accounts').select('id').where('name', '=', 'sandbox-meta').executeTakeFirstOrThrow()
    const res = await t.api('POST', '/v1/messages', { account: 'sandbox-meta', to: '+14155550123', type: 'text', text: 'paced in Redis' })
    expect(res.status).toBe(202)
    // The state expires about a second after the schedule passes: look as soon as it is written.
    await t.waitFor(async () => (await admin.exists(`wagate:rl:${account.id}`)) === 1, 5_000, 'the limiter state in Redis')
    await t.waitFor(async () => (await t.api('GET', `/v1/messages/${res.json.id}`)).json.status !== 'queued', 10_000, 'the send')
  })

  it("another instance's outbox signal wakes the worker", async () => {
    let pokes = 0
    const original = t.gw.worker.poke
    t.gw.worker.poke = () => {
      pokes++
      original()
    }
    try {
      // Wait until the other instance is subscribed too, so its publish is not lost before then.
      await sleep(300)
      other.notifier.notify('outbox')
      await t.waitFor(async () => pokes > 0, 5_000, 'the worker to be poked')
    } finally {
      t.gw.worker.poke = original
    }
  })

  it("events appended by another instance reach this instance's SSE streams at once (not at the 15 s heartbeat)", async () => {
    const stream = await openStream(t, '?topics=test.>')
    try {
      // Written straight into the store, as another process would: this process's onEvents never runs.
      const envelope = await t.gw.store.write((tx) => appendEvent(tx, { tenantId: t.gw.tenantId, type: 'test.remote', topic: 'test.remote', account: null, data: { n: 1 } }, Date.now()))
      await sleep(100)
      other.notifier.notify('events')
      await t.waitFor(async () => stream.messages.length > 0, 5_000, 'the event on the stream')
      expect(JSON.parse(stream.messages[0]?.data ?? '{}').id).toBe(envelope.id)
    } finally {
      await stream.close()
    }
  })
})

describe.skipIf(redisSkipped)('gateway whose Redis is unreachable at start', () => {
  let proxy: TcpProxy
  let t: TestGateway
  beforeAll(async () => {
    assertRedis()
    const target = new URL(REDIS_URL)
    proxy = await startTcpProxy(target.hostname, Number(target.port || 6379))
    proxy.set('cut')
    t = await startTestGateway({ env: { WAGATE_REDIS_URL: proxy.rewrite(REDIS_URL), WAGATE_LOG_LEVEL: 'info' }, sandboxes: (timings) => [metaSandbox(timings)] })
  })
  afterAll(async () => {
    await t?.close()
    await proxy?.close()
  })

  it('starts, accepts messages, holds sends (no shared pacing, no unpaced send), and sends them once Redis answers', async () => {
    const res = await t.api('POST', '/v1/messages', { account: 'sandbox-meta', to: '+14155550123', type: 'text', text: 'waits for Redis' })
    expect(res.status).toBe(202)
    await sleep(1_500)
    expect((await t.api('GET', `/v1/messages/${res.json.id}`)).json.status).toBe('queued')
    expect((await t.api('GET', '/healthz')).status).toBe(200)
    expect(t.logs.some((l) => l.includes('Redis connection error; retrying'))).toBe(true)
    expect(t.logs.some((l) => l.includes('Redis rate limiter unavailable'))).toBe(true)
    proxy.set('pass')
    await t.waitFor(async () => (await t.api('GET', `/v1/messages/${res.json.id}`)).json.status !== 'queued', 15_000, 'the send once Redis is back')
    await t.waitFor(async () => t.logs.some((l) => l.includes('Redis connection restored')), 5_000, 'the restored log line')
  })
})
