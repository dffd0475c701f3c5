import { request } from 'undici'

/**
 * Posts webhooks from a simulator to the gateway the way providers do: at least once, retried with
 * growing delays while the gateway answers non-2xx or is unreachable. Providers retry for hours; a
 * simulator retries `maxAttempts` times so tests end.
 *
 * @example
 * const poster = createWebhookPoster({ retryDelaysMs: [50, 200, 1000] })
 * poster.post({ url, headers: { 'content-type': 'application/json' }, body: JSON.stringify(payload) })
 * await poster.idle()
 */
export interface OutgoingWebhook {
  url: string
  headers: Record<string, string>
  body: string
  /** Called just before each attempt, for schemes whose signature covers a timestamp. */
  resign?: () => { headers: Record<string, string>; body: string }
}

export interface WebhookPosterOptions {
  retryDelaysMs?: number[]
  timeoutMs?: number
  /**
   * Most webhook requests open at once; further attempts wait their turn. Unset: no bound. Without
   * one, a simulator posting to a gateway that holds each webhook for seconds (shedding load) keeps
   * tens of thousands of requests open and answers its own send API late: sends then time out at
   * the gateway although they were accepted, which is the simulator's overload, not the gateway's.
   */
  maxInFlight?: number
  onDelivered?: () => void
  onFailedAttempt?: (status: number | undefined, error?: unknown) => void
}

export interface WebhookPoster {
  post(hook: OutgoingWebhook, delayMs?: number): void
  /** Resolves when nothing is pending, or rejects after timeoutMs. */
  idle(timeoutMs?: number): Promise<void>
  pending(): number
  stop(): void
}

export function createWebhookPoster(options: WebhookPosterOptions = {}): WebhookPoster {
  const delays = options.retryDelaysMs ?? [50, 200, 500, 1000, 2000, 4000]
  const timeoutMs = options.timeoutMs ?? 10_000
  const timers = new Set<NodeJS.Timeout>()
  let inflight = 0
  let stopped = false
  const turns: Array<() => void> = []
  const limit = options.maxInFlight ?? Number.POSITIVE_INFINITY
  let waiters: Array<() => void> = []

  const settle = () => {
    if (inflight === 0 && timers.size === 0 && turns.length === 0) {
      const w = waiters
      waiters = []
      for (const resolve of w) resolve()
    }
  }

  const attempt = async (hook: OutgoingWebhook, n: number): Promise<void> => {
    if (stopped) return
    if (inflight >= limit) {
      turns.push(() => void attempt(hook, n))
      return
    }
    inflight++
    let status: number | undefined
    let failure: unknown
    try {
      const signed = hook.resign ? hook.resign() : { headers: hook.headers, body: hook.body }
      const res = await request(hook.url, {
        method: 'POST',
        headers: signed.headers,
        body: signed.body,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      })
      status = res.statusCode
      await res.body.dump()
    } catch (err) {
      failure = err
    }
    inflight--
    turns.shift()?.()
    if (status !== undefined && status >= 200 && status < 300) {
      options.onDelivered?.()
    } else {
      options.onFailedAttempt?.(status, failure)
      const delay = delays[n]
      if (delay !== undefined && !stopped) schedule(hook, delay, n + 1)
    }
    settle()
  }

  const schedule = (hook: OutgoingWebhook, delayMs: number, n: number) => {
    const timer = setTimeout(() => {
      timers.delete(timer)
      void attempt(hook, n)
    }, delayMs)
    timers.add(timer)
  }

  return {
    post(hook, delayMs = 0) {
      if (stopped) return
      schedule(hook, delayMs, 0)
    },
    pending: () => inflight + timers.size + turns.length,
    idle(waitMs = 30_000) {
      if (inflight === 0 && timers.size === 0 && turns.length === 0) return Promise.resolve()
      return new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`simulator webhooks still pending after ${waitMs} ms`)), waitMs)
        waiters.push(() => {
          clearTimeout(t)
          resolve()
        })
      })
    },
    stop() {
      stopped = true
      for (const t of timers) clearTimeout(t)
      timers.clear()
      turns.length = 0
      settle()
    },
  }
}
