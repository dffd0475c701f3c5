import { connect, headers as natsHeaders, type NatsConnection } from 'nats'
import { Redis } from 'ioredis'
import type { Logger } from 'pino'
import type { Outcome } from './queue.js'
import type { SignedHeaders } from './signing.js'

/**
 * Broker sinks: a subscription can feed a NATS JetStream subject (prefix + topic) or a Redis stream
 * instead of a webhook. Delivery is at least once: a publish counts once the broker acknowledges
 * it (JetStream PubAck, XADD entry id), and the event id travels as the dedupe key (`Nats-Msg-Id`,
 * which JetStream dedupes within its duplicate window; the `id` field of the stream entry). The
 * Standard Webhooks headers go along so a consumer can check who produced the entry.
 *
 * @example
 * const sinks = createSinkPool(logger)
 * await sinks.publish({ kind: 'nats', url: 'nats://127.0.0.1:4222', subjectPrefix: 'wagate.' }, message, 5_000)
 * await sinks.close()
 */
export type SinkTarget = { kind: 'nats'; url: string; subjectPrefix: string } | { kind: 'redis'; url: string; stream: string; maxLen?: number }

export interface SinkMessage {
  id: string
  type: string
  topic: string
  body: string
  signed: SignedHeaders
}

export function createSinkPool(logger: Logger) {
  const nats = new Map<string, Promise<NatsConnection>>()
  const redis = new Map<string, Redis>()

  const natsConnection = (url: string, timeoutMs: number): Promise<NatsConnection> => {
    const open = nats.get(url)
    if (open) return open
    const u = new URL(url)
    const pending = connect({
      servers: `${u.hostname}:${u.port || '4222'}`,
      ...(u.username && u.password ? { user: decodeURIComponent(u.username), pass: decodeURIComponent(u.password) } : u.username ? { token: decodeURIComponent(u.username) } : {}),
      timeout: timeoutMs,
      maxReconnectAttempts: -1,
      name: 'wagate',
    })
    nats.set(url, pending)
    pending.then(
      (nc) => void nc.closed().then(() => nats.get(url) === pending && nats.delete(url)),
      () => nats.get(url) === pending && nats.delete(url),
    )
    return pending
  }

  const redisClient = (url: string, timeoutMs: number): Redis => {
    let client = redis.get(url)
    if (!client) {
      client = new Redis(url, { connectTimeout: timeoutMs, maxRetriesPerRequest: 1, lazyConnect: false })
      // Connection trouble shows up as failed attempts in the delivery log; keep it out of the error log.
      client.on('error', (err: Error) => logger.debug({ err, sink: 'redis' }, 'redis sink connection error'))
      redis.set(url, client)
    }
    return client
  }

  const withTimeout = <T>(work: Promise<T>, ms: number): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms)
      work.then(
        (v) => {
          clearTimeout(timer)
          resolve(v)
        },
        (e: unknown) => {
          clearTimeout(timer)
          reject(e instanceof Error ? e : new Error(String(e)))
        },
      )
    })

  return {
    async publish(target: SinkTarget, message: SinkMessage, timeoutMs: number): Promise<Outcome> {
      const started = performance.now()
      const elapsed = () => Math.round(performance.now() - started)
      try {
        if (target.kind === 'nats') {
          const nc = await withTimeout(natsConnection(target.url, timeoutMs), timeoutMs)
          const h = natsHeaders()
          h.set('content-type', 'application/json')
          h.set('webhook-id', message.signed['webhook-id'])
          h.set('webhook-timestamp', message.signed['webhook-timestamp'])
          h.set('webhook-signature', message.signed['webhook-signature'])
          const ack = await nc.jetstream().publish(`${target.subjectPrefix}${message.topic}`, new TextEncoder().encode(message.body), { msgID: message.id, headers: h, timeout: timeoutMs })
          return { ok: true, latencyMs: elapsed(), excerpt: `stream ${ack.stream} seq ${ack.seq}${ack.duplicate ? ' (duplicate)' : ''}` }
        }
        const client = redisClient(target.url, timeoutMs)
        const trim = target.maxLen ? ['MAXLEN', '~', String(target.maxLen)] : []
        const fields = ['id', message.id, 'type', message.type, 'topic', message.topic, 'envelope', message.body, 'webhook-timestamp', message.signed['webhook-timestamp'], 'webhook-signature', message.signed['webhook-signature']]
        const entry = await withTimeout(client.xadd(target.stream, ...trim, '*', ...fields), timeoutMs)
        return { ok: true, latencyMs: elapsed(), excerpt: `entry ${String(entry)}` }
      } catch (err) {
        return { error: err instanceof Error ? `${(err as Error & { code?: string }).code ? `${(err as Error & { code?: string }).code}: ` : ''}${err.message}` : String(err), latencyMs: elapsed() }
      }
    },

    async close() {
      const conns = [...nats.values()]
      nats.clear()
      for (const pending of conns) {
        const nc = await pending.catch(() => undefined)
        await nc?.drain().catch(() => undefined)
      }
      const clients = [...redis.values()]
      redis.clear()
      for (const client of clients) await client.quit().catch(() => client.disconnect())
    },
  }
}

export type SinkPool = ReturnType<typeof createSinkPool>
