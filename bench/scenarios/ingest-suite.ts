import { Pool } from 'undici'
import { closedLoop, generatorBehind, openLoop, sustained, type BenchRequest, type LoadResult, type RequestPool } from '../lib/load.js'
import { requestFeed } from '../lib/meta-webhooks.js'
import type { CpuUse, ProcessMonitor } from '../lib/monitor.js'
import type { BenchOptions } from '../lib/options.js'
import { commitRate, type StoreCounters } from '../lib/gateway-api.js'
import { RoundRobin } from '../lib/round-robin.js'
import { TrackedPool } from '../lib/tracked-pool.js'

/**
 * One webhook receiver under the three ingest measurements: the most it completes with requests
 * always waiting (closed loop, pipelined), latency at a fixed 5,000/s (open loop), and a ramp of
 * fixed rates up to the first it cannot sustain. Used for the gateway and for the bare route alike,
 * with the same requests, pool and phases.
 */
export interface RampStep {
  rate: number
  result: LoadResult
  ok: boolean
  reason?: string
}

export interface SuiteResult {
  label: string
  closed: LoadResult[]
  open: LoadResult[]
  ramp: RampStep[]
  /** Highest ramp rate sustained (undefined when the ramp was not run or no step passed). */
  maxSustained: number | undefined
  /** Set when a failing ramp step also had the generator behind: the limit may be partly this process's. */
  rampLimitedByGenerator: boolean
  cpu: { closed?: CpuUse; open?: CpuUse; ramp?: CpuUse }
  /** Group commit of the gateway's store in each phase (gateway only). */
  commits: { closed?: ReturnType<typeof commitRate>; open?: ReturnType<typeof commitRate> }
  requestsSent: number
  /** Requests sent when each phase ended (cumulative), to tell which phase used which requests. */
  phaseEnds: { warmup: number; open: number; closed: number }
}

export interface SuiteInput {
  label: string
  url: string
  /** Several processes sharing one store: requests go to each in turn (url is then unused). */
  urls?: string[]
  /** The i-th request of the run (each call with a new i must be a new webhook). */
  make: (i: number) => BenchRequest
  opts: BenchOptions
  monitor: ProcessMonitor
  ramp: boolean
  log: (line: string) => void
  /** Reads the gateway's store counters (omitted for the bare route). */
  storeCounters?: () => Promise<StoreCounters>
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

export async function runIngestSuite(input: SuiteInput): Promise<SuiteResult> {
  const { opts, monitor, log } = input
  const o = opts.ingest
  let index = 0
  const feed = (expected: number) => {
    const base = index
    const f = requestFeed(Math.min(expected, 200_000), (j) => input.make(base + j))
    return {
      next: f.next,
      done: () => {
        index = base + f.used()
      },
    }
  }
  // the same connections in all, split between the processes when there are several
  const pool = (connections: number, pipelining: number): RequestPool & { close(): Promise<void> } =>
    input.urls && input.urls.length > 1
      ? new RoundRobin(input.urls, { connections, pipelining, keepAliveTimeout: 60_000 })
      : new Pool(input.urls?.[0] ?? input.url, { connections, pipelining, keepAliveTimeout: 60_000 })
  const closedPool = new TrackedPool(pool(o.connections, o.pipelining))
  const openPool = new TrackedPool(pool(256, 1))
  const pause = async (ms: number) => {
    await sleep(ms)
    if (o.settleMs === undefined) return
    const pending = closedPool.pending + openPool.pending
    if (pending === 0) return
    const t0 = Date.now()
    const idle = (await closedPool.idle(o.settleMs)) && (await openPool.idle(Math.max(0, o.settleMs - (Date.now() - t0))))
    log(`  ${input.label}: ${idle ? 'waited' : 'gave up after'} ${((Date.now() - t0) / 1000).toFixed(1)} s for ${pending} requests of the previous run still unanswered`)
  }
  const result: SuiteResult = { label: input.label, closed: [], open: [], ramp: [], maxSustained: undefined, rampLimitedByGenerator: false, cpu: {}, commits: {}, requestsSent: 0, phaseEnds: { warmup: 0, open: 0, closed: 0 } }
  try {
    const warm = feed(Math.ceil((o.warmupMs / 1000) * 3_000))
    await openLoop(openPool, warm.next, { rate: 3_000, durationMs: o.warmupMs })
    warm.done()
    result.phaseEnds.warmup = index
    await pause(300)

    // open loop first: in the known-messages variant the fresh status changes are limited, and the
    // latency figure must be measured on them
    let mark = monitor.mark()
    let counters = await input.storeCounters?.()
    for (let rep = 0; rep < opts.reps; rep++) {
      const f = feed(Math.ceil(o.openRate * (o.openMs / 1000)) + 10)
      const r = await openLoop(openPool, f.next, { rate: o.openRate, durationMs: o.openMs })
      f.done()
      result.open.push(r)
      log(`  ${input.label} ${o.openRate}/s #${rep + 1}: p50 ${r.latency.p50.toFixed(2)} ms  p99 ${r.latency.p99.toFixed(2)} ms  ok ${r.ok}/${r.sent}  late ${r.late}${r.errors ? `  (${r.firstError})` : ''}`)
      await pause(300)
    }
    result.cpu.open = monitor.cpuBetween(mark, monitor.mark())
    const afterOpen = await input.storeCounters?.()
    if (counters && afterOpen && result.cpu.open) result.commits.open = commitRate(counters, afterOpen, result.cpu.open.seconds)
    result.phaseEnds.open = index

    let guess = 15_000
    mark = monitor.mark()
    counters = await input.storeCounters?.()
    for (let rep = 0; rep < opts.reps; rep++) {
      const f = feed(Math.ceil(guess * 1.3 * (o.closedMs / 1000)))
      const r = await closedLoop(closedPool, f.next, { durationMs: o.closedMs, concurrency: o.connections * o.pipelining })
      f.done()
      guess = Math.max(2_000, r.throughput)
      result.closed.push(r)
      log(`  ${input.label} closed loop #${rep + 1}: ${Math.round(r.throughput)}/s  p99 ${r.latency.p99.toFixed(1)} ms  errors ${r.errors}${r.firstError ? ` (${r.firstError})` : ''}`)
      await pause(300)
    }
    result.cpu.closed = monitor.cpuBetween(mark, monitor.mark())
    const afterClosed = await input.storeCounters?.()
    if (counters && afterClosed && result.cpu.closed) result.commits.closed = commitRate(counters, afterClosed, result.cpu.closed.seconds)
    result.phaseEnds.closed = index

    if (input.ramp) {
      mark = monitor.mark()
      const tryRate = async (rate: number): Promise<RampStep> => {
        const f = feed(Math.ceil(rate * (o.rampStepMs / 1000)) + 10)
        const r = await openLoop(openPool, f.next, { rate, durationMs: o.rampStepMs, drainMs: 10_000 })
        f.done()
        const behind = generatorBehind(r)
        const ok = sustained(r, o.sustainP99Ms)
        const cause = r.errors > 0 ? `${r.errors} errors (${r.firstError ?? ''})` : `p99 ${r.latency.p99.toFixed(0)} ms > ${o.sustainP99Ms} ms`
        // a late generator inflates latency (it counts from the scheduled time): say so beside the verdict
        const reason = ok ? undefined : behind ? `${cause}; load generator also behind (${r.late} sends > 5 ms late)` : cause
        if (!ok && behind) result.rampLimitedByGenerator = true
        const step: RampStep = { rate, result: r, ok, ...(reason ? { reason } : {}) }
        result.ramp.push(step)
        log(`  ${input.label} ramp ${rate}/s: ${ok ? 'sustained' : `not sustained: ${reason}`}  p50 ${r.latency.p50.toFixed(1)} p99 ${r.latency.p99.toFixed(1)} ms  done ${Math.round(r.throughput)}/s`)
        await pause(500)
        return step
      }
      let lastOk: number | undefined
      for (const rate of o.rampRates) {
        const step = await tryRate(rate)
        if (step.ok) {
          lastOk = rate
          continue
        }
        // one step halfway back, so the figure is not only as fine as the step list
        const mid = Math.round(((lastOk ?? 0) + rate) / 2 / 500) * 500
        if (mid > (lastOk ?? 0) && mid < rate) {
          const again = await tryRate(mid)
          if (again.ok) lastOk = mid
        }
        break
      }
      result.maxSustained = lastOk
      result.cpu.ramp = monitor.cpuBetween(mark, monitor.mark())
    }
  } finally {
    result.requestsSent = index
    await closedPool.close()
    await openPool.close()
  }
  return result
}
