import type { EventEmitter } from 'node:events'
import type { Logger } from 'pino'
import { Agent, type Dispatcher } from 'undici'
import { createWaker } from '../waker.js'
import type { SecretBox } from '../../crypto.js'
import type { Store } from '../../store/db.js'
import { systemClock, type Clock } from '../clock.js'
import { eventBus, type Envelope } from '../events.js'
import { deliver } from './deliver.js'
import { fanOut } from './fanout.js'
import { endpointsWithDueWork, leaseDue, nextDueAt, recordOutcome, type Job, type Verdict } from './queue.js'
import { bindSubscriptions } from './registry.js'
import { scheduleFromEnv } from './schedule.js'
import { createSubscriptionService, type SubscriptionService } from './service.js'
import { createSinkPool } from './sinks.js'

/**
 * Events out (DESIGN §3, §10): fans the event log out to matching subscriptions (durable rows), then
 * delivers each one, signed, with the retry schedule, to a webhook or a broker sink (NATS JetStream,
 * Redis stream). Wakes on `eventBus` (emitted after commit) and
 * polls as a safety net. Each endpoint has its own slots (`max_in_flight`) and timeout, so a slow
 * or dead endpoint never holds back the others.
 *
 * Environment (read here, `env` defaults to process.env; options win):
 * - WAGATE_DELIVERY_SCHEDULE_MS   waits before each retry, comma list (default 0,5000,300000,1800000,7200000,18000000,36000000,36000000)
 * - WAGATE_DELIVERY_TIMEOUT_MS    default per-endpoint timeout of one attempt (15000)
 * - WAGATE_DELIVERY_MAX_IN_FLIGHT default per-endpoint concurrency (8)
 *
 * @example
 * const subscriptions = createSubscriptionDispatcher({ store, box, logger, onEvents })
 * subscriptions.start()
 * await subscriptions.stop()
 */
export interface SubscriptionDispatcherOptions {
  store: Store
  box: SecretBox
  logger: Logger
  clock?: Clock
  /** Receives events this dispatcher appends (`subscription.disabled`) after commit. */
  onEvents?: (events: Envelope[]) => void
  scheduleMs?: number[]
  timeoutMs?: number
  maxInFlight?: number
  /** Attempts in flight across all endpoints. */
  concurrency?: number
  pollMs?: number
  env?: Record<string, string | undefined>
  dispatcher?: Dispatcher
  bus?: EventEmitter
  /** Webhook URLs may point at loopback and private addresses (WAGATE_ALLOW_PRIVATE_WEBHOOKS). */
  allowPrivateWebhooks?: boolean
}

export interface DispatcherStats {
  delivered: number
  retried: number
  failed: number
  disabled: number
  inflight: number
  /** Attempts recorded (webhook POSTs and broker publishes, successful or not). */
  attempts: number
  /** Events acknowledged by a NATS or Redis sink. */
  sinkPublished: number
}

const positiveInt = (name: string, value: string | undefined, fallback: number, max: number): number => {
  if (value === undefined || value.trim() === '') return fallback
  if (!/^\d+$/.test(value.trim()) || Number(value) < 1 || Number(value) > max) throw new Error(`${name}: must be a whole number from 1 to ${max} (got "${value}")`)
  return Number(value)
}

export function createSubscriptionDispatcher(opts: SubscriptionDispatcherOptions) {
  const env = opts.env ?? process.env
  const clock = opts.clock ?? systemClock
  const schedule = opts.scheduleMs ?? scheduleFromEnv(env)
  const timeoutMs = opts.timeoutMs ?? positiveInt('WAGATE_DELIVERY_TIMEOUT_MS', env.WAGATE_DELIVERY_TIMEOUT_MS, 15_000, 60_000)
  const maxInFlight = opts.maxInFlight ?? positiveInt('WAGATE_DELIVERY_MAX_IN_FLIGHT', env.WAGATE_DELIVERY_MAX_IN_FLIGHT, 8, 100)
  const concurrency = opts.concurrency ?? 256
  const pollMs = opts.pollMs ?? 1_000
  const bus = opts.bus ?? eventBus
  const ownAgent = opts.dispatcher ? undefined : new Agent({ keepAliveTimeout: 10_000, connections: 100 })
  const http = opts.dispatcher ?? (ownAgent as Dispatcher)
  const sinks = createSinkPool(opts.logger)
  const stats: DispatcherStats = { delivered: 0, retried: 0, failed: 0, disabled: 0, inflight: 0, attempts: 0, sinkPublished: 0 }
  /** Attempts in flight per subscription, with its limit. */
  const inflight = new Map<string, { count: number; limit: number }>()
  const stopping = new AbortController()
  let running = false
  let dirty = true
  let fannedUpTo = -1
  const waker = createWaker()
  let loopDone: Promise<void> | undefined

  const poke = () => {
    dirty = true
    waker.wake()
  }
  const service: SubscriptionService = createSubscriptionService({ store: opts.store, box: opts.box, clock, defaults: { maxInFlight, timeoutMs }, wake: poke, allowPrivateWebhooks: opts.allowPrivateWebhooks ?? false })
  bindSubscriptions(opts.store, service)

  const saturated = () => [...inflight].filter(([, v]) => v.count >= v.limit).map(([id]) => id)

  const fanOutIfNeeded = async (): Promise<boolean> => {
    const row = await opts.store.read.selectFrom('events').select((eb) => eb.fn.max('seq').as('seq')).executeTakeFirst()
    const maxSeq = Number(row?.seq ?? 0)
    if (!dirty && maxSeq <= fannedUpTo) return false
    dirty = false
    // No subscription at all: nothing to write (and no commit to pay for on every event).
    const anyActive = await opts.store.read.selectFrom('subscriptions').select('id').where('state', '=', 'active').limit(1).executeTakeFirst()
    if (!anyActive) {
      fannedUpTo = Math.max(fannedUpTo, maxSeq)
      return false
    }
    const upTo = await opts.store.eventHorizon()
    const { created, more } = await opts.store.write((tx) => fanOut(tx, clock.now(), 1_000, upTo))
    if (more) dirty = true
    else fannedUpTo = Math.max(fannedUpTo, Math.min(maxSeq, upTo))
    return created > 0 || more
  }

  const leaseAndLaunch = async (): Promise<number> => {
    let free = concurrency - stats.inflight
    if (free <= 0) return 0
    const now = clock.now()
    const endpoints = await endpointsWithDueWork(opts.store, now, saturated())
    const wanted: Array<{ subscriptionId: string; slots: number }> = []
    for (const e of endpoints) {
      const slots = Math.min(free, e.maxInFlight - (inflight.get(e.id)?.count ?? 0))
      if (slots <= 0) continue
      wanted.push({ subscriptionId: e.id, slots })
      free -= slots
      if (free <= 0) break
    }
    if (wanted.length === 0) return 0
    const jobs = await opts.store.write((tx) => leaseDue(tx, clock.now(), wanted))
    for (const job of jobs) launch(job)
    return jobs.length
  }

  const launch = (job: Job) => {
    const slot = inflight.get(job.sub.id) ?? { count: 0, limit: Number(job.sub.max_in_flight) }
    slot.count++
    slot.limit = Number(job.sub.max_in_flight)
    inflight.set(job.sub.id, slot)
    stats.inflight++
    void run(job)
      .catch((err: unknown) => opts.logger.error({ err, delivery: job.delivery.id }, 'delivery failed to record; its lease will expire and it will run again'))
      .finally(() => {
        stats.inflight--
        slot.count--
        if (slot.count <= 0) inflight.delete(job.sub.id)
        waker.wake()
      })
  }

  const run = async (job: Job) => {
    const outcome = await deliver(job, { box: opts.box, http, sinks, stop: stopping.signal, now: clock.now() })
    const events: Envelope[] = []
    const verdict: Verdict = await opts.store.write((tx) => {
      events.length = 0 // a PostgreSQL retry runs this again
      return recordOutcome(tx, job, outcome, schedule, clock.now(), events)
    })
    if (verdict !== 'stale' && verdict !== 'released') stats.attempts++
    if (verdict === 'delivered' && job.sub.kind !== 'webhook') stats.sinkPublished++
    if (verdict === 'delivered') stats.delivered++
    else if (verdict === 'retry') stats.retried++
    else if (verdict === 'failed' || verdict === 'gone') stats.failed++
    if (events.length > 0) {
      stats.disabled += events.length
      opts.logger.warn({ subscription: job.sub.id, url: job.sub.url, verdict }, 'subscription disabled')
      opts.onEvents?.(events)
    }
  }

  const idleDelay = async (): Promise<number> => {
    const due = await nextDueAt(opts.store, saturated())
    if (due === undefined) return pollMs
    const wait = due - clock.now()
    // Due but not leased means its endpoint is busy: a finished attempt wakes the loop sooner.
    return wait <= 0 ? pollMs : Math.min(wait, pollMs)
  }

  const loop = async () => {
    while (running) {
      let busy = false
      try {
        busy = await fanOutIfNeeded()
      } catch (err) {
        opts.logger.error({ err }, 'subscription fan-out failed')
      }
      try {
        busy = (await leaseAndLaunch()) > 0 || busy
      } catch (err) {
        opts.logger.error({ err }, 'delivery lease failed')
      }
      if (!running) break
      if (busy) continue
      let delay = pollMs
      try {
        delay = await idleDelay()
      } catch (err) {
        opts.logger.error({ err }, 'delivery schedule read failed')
      }
      await waker.sleep(delay)
    }
  }

  const onBusEvent = () => poke()

  return {
    service,
    stats: () => ({ ...stats }),
    start() {
      if (running) return
      running = true
      bus.on('event', onBusEvent)
      loopDone = loop()
    },
    /** Wakes the loop: new events, a retry or a replay. */
    poke,
    /** Lets attempts in flight finish for `graceMs`, then aborts them (they run again later). */
    async stop(graceMs = 5_000) {
      running = false
      bus.off('event', onBusEvent)
      waker.wake()
      await loopDone
      const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))
      const deadline = Date.now() + graceMs
      while (stats.inflight > 0 && Date.now() < deadline) await sleep(10)
      stopping.abort()
      const hard = Date.now() + 5_000
      while (stats.inflight > 0 && Date.now() < hard) await sleep(10)
      await ownAgent?.close()
      await sinks.close()
    },
  }
}

export type SubscriptionDispatcher = ReturnType<typeof createSubscriptionDispatcher>
