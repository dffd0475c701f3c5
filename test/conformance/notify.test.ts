import { randomBytes } from 'node:crypto'
import { Redis } from 'ioredis'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createLocalNotifier, type Notifier, type Origin, type Signal } from '../../src/engine/notify.js'
import { connectRedis, type RedisConnections } from '../../src/engine/redis.js'
import { createRedisNotifier } from '../../src/engine/redis-notify.js'
import { createLogger } from '../../src/logger.js'
import { startTcpProxy, type TcpProxy } from '../faults/tcp-proxy.js'
import { assertRedis, REDIS_URL, redisSkipped, warnIfSkipped } from './redis-service.js'

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

async function waitFor(check: () => boolean, timeoutMs: number, what: string) {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await sleep(10)
  }
}

/** Records what a notifier's listeners hear. */
function record(notifier: Notifier) {
  const heard: Array<{ signal: Signal; origin: Origin }> = []
  for (const signal of ['outbox', 'events'] as const) notifier.on(signal, (origin) => heard.push({ signal, origin }))
  return {
    heard,
    count: (signal: Signal, origin: Origin) => heard.filter((h) => h.signal === signal && h.origin === origin).length,
    clear: () => void heard.splice(0),
  }
}

describe('local notifier (one process)', () => {
  it('runs listeners at once, keeps signals apart, and stops calling a removed listener', async () => {
    const notifier = createLocalNotifier()
    const heard = record(notifier)
    let extra = 0
    const off = notifier.on('outbox', () => extra++)
    notifier.notify('outbox')
    expect(heard.heard).toEqual([{ signal: 'outbox', origin: 'local' }])
    off()
    notifier.notify('outbox')
    notifier.notify('events')
    expect(extra).toBe(1)
    expect(heard.count('outbox', 'local')).toBe(2)
    expect(heard.count('events', 'local')).toBe(1)
    await notifier.close()
  })

  it('a throwing listener does not keep the others from hearing', () => {
    const notifier = createLocalNotifier()
    notifier.on('events', () => {
      throw new Error('boom')
    })
    const heard = record(notifier)
    expect(() => notifier.notify('events')).not.toThrow()
    expect(heard.count('events', 'local')).toBe(1)
  })
})

warnIfSkipped('the notification suite')
describe.skipIf(redisSkipped)('Redis notifier (two instances)', () => {
  const logger = createLogger({ level: 'silent' })
  // A channel of this run only: other test files (and other runs) publish on the real one.
  const channel = `wagate:notify:test:${randomBytes(6).toString('hex')}`
  const open: Array<{ notifier: Notifier; redis: RedisConnections }> = []
  const instance = (url = REDIS_URL, name?: string) => {
    const redis = connectRedis(url, logger, { ...(name ? { name } : {}) })
    redis.connect()
    const notifier = createRedisNotifier({ publisher: redis.commands, subscriber: redis.subscriber, logger, channel })
    open.push({ notifier, redis })
    return { notifier, redis, ...record(notifier) }
  }
  /** Waits for an instance's first subscription (it wakes its listeners once, origin remote). */
  const subscribed = async (i: ReturnType<typeof instance>) => {
    await waitFor(() => i.count('outbox', 'remote') > 0 && i.count('events', 'remote') > 0, 10_000, 'the subscription')
    i.clear()
  }
  let admin: Redis
  beforeAll(async () => {
    assertRedis()
    admin = new Redis(REDIS_URL)
  })
  afterEach(async () => {
    for (const { notifier, redis } of open.splice(0)) {
      await notifier.close()
      await redis.close()
    }
  })
  afterAll(async () => {
    await admin?.quit()
  })

  it('each instance hears the other once; its own signal only locally, at once', async () => {
    const a = instance()
    const b = instance()
    await subscribed(a)
    await subscribed(b)
    a.notifier.notify('outbox')
    expect(a.heard).toEqual([{ signal: 'outbox', origin: 'local' }])
    await waitFor(() => b.count('outbox', 'remote') === 1, 3_000, 'b to hear outbox')
    b.notifier.notify('events')
    await waitFor(() => a.count('events', 'remote') === 1, 3_000, 'a to hear events')
    await sleep(200)
    // Nobody hears its own signal back from Redis, and each signal arrives once.
    expect(a.count('outbox', 'remote')).toBe(0)
    expect(b.count('events', 'remote')).toBe(0)
    expect(b.count('outbox', 'remote')).toBe(1)
    expect(a.count('events', 'remote')).toBe(1)
    expect(b.count('events', 'local')).toBe(1)
  })

  it('signals raised in one tick cross as one message', async () => {
    const a = instance()
    const b = instance()
    await subscribed(a)
    await subscribed(b)
    for (let i = 0; i < 500; i++) a.notifier.notify(i % 2 ? 'events' : 'outbox')
    expect(a.count('outbox', 'local')).toBe(250)
    await waitFor(() => b.count('outbox', 'remote') > 0 && b.count('events', 'remote') > 0, 3_000, 'b to hear both')
    await sleep(300)
    expect(b.count('outbox', 'remote')).toBe(1)
    expect(b.count('events', 'remote')).toBe(1)
  })

  it('after its connection is killed, an instance subscribes again, wakes its listeners to catch up, and hears again', async () => {
    const name = `wagate-notify-test-${randomBytes(4).toString('hex')}`
    const a = instance()
    const b = instance(REDIS_URL, name)
    await subscribed(a)
    await subscribed(b)
    const clients = (await admin.client('LIST')) as string
    const line = clients.split('\n').find((l) => l.includes(` name=${name}:sub `))
    const id = line?.match(/^id=(\d+)/)?.[1]
    expect(id, 'the subscriber connection in CLIENT LIST').toBeDefined()
    await admin.client('KILL', 'ID', id as string)
    // Signals published while b is away are lost; the catch-up wake stands in for them.
    await waitFor(() => b.count('outbox', 'remote') > 0 && b.count('events', 'remote') > 0, 10_000, 'b to resubscribe and catch up')
    b.clear()
    a.notifier.notify('outbox')
    await waitFor(() => b.count('outbox', 'remote') === 1, 3_000, 'b to hear a after the reconnection')
  })

  it('an instance started while Redis is unreachable works once Redis comes, without a restart', async () => {
    const target = new URL(REDIS_URL)
    let proxy: TcpProxy | undefined
    try {
      proxy = await startTcpProxy(target.hostname, Number(target.port || 6379))
      proxy.set('cut')
      const a = instance()
      const b = instance(proxy.rewrite(REDIS_URL))
      await subscribed(a)
      await sleep(500)
      a.notifier.notify('outbox')
      await sleep(300)
      expect(b.heard).toEqual([])
      // b's own signals still reach its listeners while Redis is away.
      b.notifier.notify('events')
      expect(b.count('events', 'local')).toBe(1)
      proxy.set('pass')
      await subscribed(b)
      a.notifier.notify('outbox')
      await waitFor(() => b.count('outbox', 'remote') === 1, 3_000, 'b to hear a once connected')
    } finally {
      await proxy?.close()
    }
  })
})
