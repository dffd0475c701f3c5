import type { Pool } from 'undici'
import { Samples, summarize, type LatencySummary } from './stats.js'

/**
 * Load generators over an undici Pool. `closedLoop` keeps a fixed number of requests in flight
 * (pipelined) and measures the most a server completes; `openLoop` fires at a fixed rate whatever
 * the server does and measures latency from each request's *scheduled* time, so a server (or a
 * generator) that falls behind shows it in the latency instead of quietly slowing the arrivals.
 *
 * @example
 * const pool = new Pool(url, { connections: 16, pipelining: 8 })
 * const max = await closedLoop(pool, () => ({ method: 'POST', path: '/x', headers, body }), { durationMs: 3000, concurrency: 128 })
 * const at5k = await openLoop(pool, next, { rate: 5000, durationMs: 3000 })
 */
export interface BenchRequest {
  method: 'GET' | 'POST'
  path: string
  headers: Record<string, string>
  body?: string | Buffer
}

export interface LoadResult {
  /** Requests sent. */
  sent: number
  /** 2xx answers. */
  ok: number
  /** Non-2xx answers, network errors and requests still unanswered at the end. */
  errors: number
  statuses: Record<string, number>
  firstError?: string
  elapsedMs: number
  /** 2xx answers per second over the run. */
  throughput: number
  latency: LatencySummary
  /** Open loop only: the offered rate, how many were sent later than 5 ms after their slot, the worst lag. */
  rate?: number
  late?: number
  maxLagMs?: number
}

/** What the generators need of a pool: an undici Pool, or a RoundRobin over several (lib/round-robin.ts). */
export type RequestPool = Pick<Pool, 'request'>

type Completed = (status: number | undefined, error?: unknown) => void

function fire(pool: RequestPool, req: BenchRequest, done: Completed) {
  pool
    .request({ method: req.method, path: req.path, headers: req.headers, ...(req.body !== undefined ? { body: req.body } : {}), headersTimeout: 30_000, bodyTimeout: 30_000 })
    .then(async (res) => {
      await res.body.dump()
      done(res.statusCode)
    })
    .catch((err: unknown) => done(undefined, err))
}

function tally() {
  const statuses: Record<string, number> = {}
  let ok = 0
  let errors = 0
  let firstError: string | undefined
  return {
    record(status: number | undefined, error?: unknown) {
      const key = status === undefined ? 'network' : String(status)
      statuses[key] = (statuses[key] ?? 0) + 1
      if (status !== undefined && status >= 200 && status < 300) ok++
      else {
        errors++
        firstError ??= status === undefined ? String(error instanceof Error ? error.message : error) : `HTTP ${status}`
      }
    },
    result: () => ({ statuses, ok, errors, ...(firstError ? { firstError } : {}) }),
  }
}

/** Keeps `concurrency` requests outstanding for `durationMs`. */
export async function closedLoop(pool: RequestPool, next: () => BenchRequest, opts: { durationMs: number; concurrency: number }): Promise<LoadResult> {
  const samples = new Samples()
  const t = tally()
  const start = performance.now()
  const end = start + opts.durationMs
  let sent = 0
  const worker = () =>
    new Promise<void>((resolve) => {
      const one = () => {
        if (performance.now() >= end) return resolve()
        const began = performance.now()
        sent++
        fire(pool, next(), (status, error) => {
          samples.push(performance.now() - began)
          t.record(status, error)
          one()
        })
      }
      one()
    })
  await Promise.all(Array.from({ length: opts.concurrency }, worker))
  const elapsedMs = performance.now() - start
  const r = t.result()
  return { sent, ...r, elapsedMs, throughput: (r.ok * 1000) / elapsedMs, latency: summarize(samples) }
}

/**
 * Sends `rate` requests per second for `durationMs` on a 1 ms timer (a busy loop would take a core
 * from the server on a small machine), then waits up to `drainMs` for the last answers.
 */
export async function openLoop(
  pool: RequestPool,
  next: () => BenchRequest,
  opts: { rate: number; durationMs: number; drainMs?: number; maxInflight?: number },
): Promise<LoadResult> {
  const samples = new Samples()
  const t = tally()
  const interval = 1000 / opts.rate
  const total = Math.max(1, Math.round((opts.rate * opts.durationMs) / 1000))
  const maxInflight = opts.maxInflight ?? 50_000
  let sent = 0
  let inflight = 0
  let late = 0
  let maxLagMs = 0
  let dropped = 0
  let lastDone = 0
  const start = performance.now()
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now()
      const due = Math.min(total, Math.floor((now - start) / interval) + 1)
      while (sent + dropped < due) {
        const scheduled = start + (sent + dropped) * interval
        const lag = now - scheduled
        if (lag > 5) late++
        if (lag > maxLagMs) maxLagMs = lag
        if (inflight >= maxInflight) {
          dropped++
          continue
        }
        sent++
        inflight++
        fire(pool, next(), (status, error) => {
          inflight--
          lastDone = performance.now()
          samples.push(lastDone - scheduled)
          t.record(status, error)
        })
      }
      if (sent + dropped >= total) resolve()
      else setTimeout(tick, 1)
    }
    tick()
  })
  const drainUntil = performance.now() + (opts.drainMs ?? 5_000)
  while (inflight > 0 && performance.now() < drainUntil) await new Promise((r) => setTimeout(r, 5))
  const r = t.result()
  const unanswered = inflight + dropped
  const elapsedMs = Math.max(lastDone, start + opts.durationMs) - start
  return {
    sent,
    ...r,
    errors: r.errors + unanswered,
    ...(unanswered > 0 && !r.firstError ? { firstError: `${unanswered} requests unanswered or not sent (generator backlog)` } : {}),
    elapsedMs,
    throughput: (r.ok * 1000) / elapsedMs,
    latency: summarize(samples),
    rate: opts.rate,
    late,
    maxLagMs,
  }
}

/**
 * Whether an open-loop step kept up: every request answered 2xx and the 99th percentile bounded (a
 * queue that grows through the step pushes it up). Latency counts from the scheduled time, so a
 * generator that fell behind makes this stricter, never looser.
 */
export function sustained(r: LoadResult, maxP99Ms: number): boolean {
  return r.errors === 0 && r.ok >= r.sent && r.sent > 0 && r.latency.p99 <= maxP99Ms
}

/** More than 1% of the sends left later than 5 ms after their slot: the generator itself was short of CPU. */
export function generatorBehind(r: LoadResult): boolean {
  return (r.late ?? 0) > r.sent * 0.01
}

/** Sends exactly `count` requests (`build(i)`), `concurrency` at a time. */
export async function fixedCount(pool: RequestPool, build: (i: number) => BenchRequest, opts: { count: number; concurrency: number }): Promise<LoadResult> {
  const samples = new Samples()
  const t = tally()
  const start = performance.now()
  let sent = 0
  const worker = () =>
    new Promise<void>((resolve) => {
      const one = () => {
        if (sent >= opts.count) return resolve()
        const req = build(sent++)
        const began = performance.now()
        fire(pool, req, (status, error) => {
          samples.push(performance.now() - began)
          t.record(status, error)
          one()
        })
      }
      one()
    })
  await Promise.all(Array.from({ length: Math.min(opts.concurrency, opts.count) }, worker))
  const elapsedMs = performance.now() - start
  const r = t.result()
  return { sent, ...r, elapsedMs, throughput: (r.ok * 1000) / elapsedMs, latency: summarize(samples) }
}
