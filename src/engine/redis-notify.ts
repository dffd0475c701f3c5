import type { Redis } from 'ioredis'
import type { Logger } from 'pino'
import { newId } from '../domain/ids.js'
import { createListeners, SIGNALS, type Notifier, type Signal } from './notify.js'

/**
 * The notifier across processes, over Redis PUBLISH/SUBSCRIBE on one channel (`wagate:notify`).
 * Each instance tags what it publishes with its id and ignores its own messages (its listeners ran
 * already). Signals raised in one tick are published once (10,000 accepted messages do not make
 * 10,000 PUBLISHes). Pub/sub is fire-and-forget: a signal published while a subscriber is
 * disconnected is lost, so each time the subscription is (re)established every local listener is
 * woken once (origin `remote`) to look again at whatever it missed.
 *
 * @example
 * const notifier = createRedisNotifier({ publisher: redis.commands, subscriber: redis.subscriber, logger })
 * notifier.on('events', () => eventBus.emit('event'))
 * notifier.notify('events')
 */
export interface RedisNotifierOptions {
  publisher: Redis
  /** A connection dedicated to SUBSCRIBE. */
  subscriber: Redis
  logger?: Logger
  channel?: string
}

export function createRedisNotifier(opts: RedisNotifierOptions): Notifier {
  const channel = opts.channel ?? 'wagate:notify'
  const instance = newId('ins')
  const listeners = createListeners((err) => opts.logger?.error({ err }, 'notification listener failed'))
  const pending = new Set<Signal>()
  let flushScheduled = false
  let closed = false
  let lastLogged = 0

  const flush = () => {
    flushScheduled = false
    const signals = [...pending]
    pending.clear()
    if (closed || signals.length === 0) return
    opts.publisher.publish(channel, `${instance} ${signals.join(',')}`).catch((err: unknown) => {
      const t = Date.now()
      if (t - lastLogged < 10_000) return
      lastLogged = t
      opts.logger?.warn({ err: { message: err instanceof Error ? err.message : String(err) } }, 'could not publish a notification to other instances; they will find the work by polling')
    })
  }

  const onMessage = (from: string, message: string) => {
    if (from !== channel || closed) return
    const space = message.indexOf(' ')
    if (space < 0 || message.slice(0, space) === instance) return
    for (const signal of message.slice(space + 1).split(',')) {
      if ((SIGNALS as readonly string[]).includes(signal)) listeners.emit(signal as Signal, 'remote')
    }
  }
  // Subscribed on every (re)connection by hand, not by ioredis's autoResubscribe: that one says
  // `ready` before re-subscribing, and the catch-up wake must come after the subscription is back.
  const subscribe = () => {
    if (closed) return
    opts.subscriber.subscribe(channel).then(
      () => {
        // Also at the first subscription: Redis may have come up after this process started.
        if (!closed) for (const signal of SIGNALS) listeners.emit(signal, 'remote')
      },
      (err: unknown) => opts.logger?.warn({ err: { message: err instanceof Error ? err.message : String(err) } }, 'could not subscribe to notifications from other instances; retrying at the next connection'),
    )
  }
  opts.subscriber.on('message', onMessage)
  opts.subscriber.on('ready', subscribe)
  if (opts.subscriber.status === 'ready') subscribe()

  return {
    notify(signal) {
      if (closed) return
      listeners.emit(signal, 'local')
      pending.add(signal)
      if (!flushScheduled) {
        flushScheduled = true
        setImmediate(flush)
      }
    },
    on: (signal, listener) => listeners.add(signal, listener),
    async close() {
      closed = true
      listeners.clear()
      opts.subscriber.off('message', onMessage)
      opts.subscriber.off('ready', subscribe)
      if (opts.subscriber.status === 'ready') await opts.subscriber.unsubscribe(channel).catch(() => undefined)
    },
  }
}
