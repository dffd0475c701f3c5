import { Redis } from 'ioredis'
import type { Logger } from 'pino'

/**
 * The two Redis connections of a process (WAGATE_REDIS_URL): `commands` for the rate limiter and
 * PUBLISH, `subscriber` for SUBSCRIBE (a subscribed connection can run nothing else). Neither ever
 * crashes the process: they reconnect forever (back-off up to 2 s), errors are logged at most every
 * 10 s per connection, and a command fails after 2 s instead of hanging on a dead server, so its
 * caller can fall back (the limiter reschedules the send, a notification is dropped and polling
 * picks the work up).
 *
 * @example
 * const redis = connectRedis('redis://127.0.0.1:6379', logger, { name: 'wagate:all' })
 * redis.connect()
 * await redis.commands.ping()
 * await redis.close()
 */
export interface RedisConnections {
  commands: Redis
  subscriber: Redis
  /**
   * Starts connecting (at `listen()`, so a gateway that fails to start holds no socket). A failed
   * first attempt is retried like any lost connection; a command issued before this connects too.
   */
  connect(): void
  /** Quits both connections (waits at most 2 s for the server to answer QUIT). */
  close(): Promise<void>
}

export interface RedisConnectOptions {
  /** Shown in CLIENT LIST, to tell processes apart. */
  name?: string
  commandTimeoutMs?: number
}

export function connectRedis(url: string, logger: Logger, opts: RedisConnectOptions = {}): RedisConnections {
  const commandTimeout = opts.commandTimeoutMs ?? 2_000
  const commands = new Redis(url, {
    ...(opts.name ? { connectionName: opts.name } : {}),
    commandTimeout,
    lazyConnect: true,
    // A command waits for at most one reconnection attempt, then fails: a caller that waits longer
    // than that holds a send or a request hostage to Redis.
    maxRetriesPerRequest: 1,
    retryStrategy: (times) => Math.min(times * 100, 2_000),
  })
  const subscriber = new Redis(url, {
    ...(opts.name ? { connectionName: `${opts.name}:sub` } : {}),
    // The notifier subscribes again itself on each `ready` (see redis-notify.ts).
    maxRetriesPerRequest: null,
    autoResubscribe: false,
    lazyConnect: true,
    retryStrategy: (times) => Math.min(times * 100, 2_000),
  })
  watch(commands, logger, 'commands')
  watch(subscriber, logger, 'subscriber')
  return {
    commands,
    subscriber,
    connect() {
      for (const redis of [commands, subscriber]) {
        // Rejects on a failed first attempt, which `error` already logged; retryStrategy goes on.
        if (redis.status === 'wait') redis.connect().catch(() => undefined)
      }
    },
    async close() {
      await Promise.all([quit(commands), quit(subscriber)])
    },
  }
}

/** Logs errors (throttled) and the return of a lost connection. */
function watch(redis: Redis, logger: Logger, role: string) {
  let lastLogged = 0
  let failing = false
  redis.on('error', (err: Error) => {
    failing = true
    const now = Date.now()
    if (now - lastLogged < 10_000) return
    lastLogged = now
    // The message names host and port, never the URL (which may carry a password).
    logger.warn({ redis: role, err: { message: err.message, code: (err as { code?: string }).code } }, 'Redis connection error; retrying')
  })
  redis.on('ready', () => {
    if (!failing) return
    failing = false
    logger.info({ redis: role }, 'Redis connection restored')
  })
}

async function quit(redis: Redis) {
  if (redis.status === 'end') return
  // QUIT on a connection that is down would wait for a reconnection that may never come.
  if (redis.status !== 'ready') {
    redis.disconnect()
    return
  }
  const timer = setTimeout(() => redis.disconnect(), 2_000)
  try {
    await redis.quit()
  } catch {
    redis.disconnect()
  } finally {
    clearTimeout(timer)
  }
}
