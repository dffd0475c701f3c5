import { Pool } from 'undici'
import type { StorageReport } from '../lib/db-probe.js'
import { backendId, deploy, type Deployment } from '../lib/deployment.js'
import { commitRate, createBenchAccount, recipients, sendMessageRequest, simSent, simStats, type BenchAccount } from '../lib/gateway-api.js'
import { fixedCount, type LoadResult, type RequestPool } from '../lib/load.js'
import { statusWebhook } from '../lib/meta-webhooks.js'
import type { CpuUse } from '../lib/monitor.js'
import type { BackendSpec } from '../lib/options.js'
import { startMetaSimulator, type Child } from '../lib/procs.js'
import { summarizeProfile, type ProfileSummary } from '../lib/profile.js'
import { RoundRobin } from '../lib/round-robin.js'
import type { StoreProbe } from '../lib/store-probe.js'
import { maxInWindow, rateOf, summarize, type LatencySummary } from '../lib/stats.js'
import type { RunContext } from './context.js'
import { runIngestSuite, type SuiteResult } from './ingest-suite.js'
import { FLOW_SIM_ENV, runSendBaseline, startSink } from './send-baseline.js'

/**
 * The scenarios that need the Meta simulator, on one gateway process: rate limits (accounts at 80
 * and 1,000 msg/s), send throughput end to end (API → outbox → simulator → `sent` webhook back),
 * its undici-only baseline, then the "known" ingest variant (delivered/read statuses for the
 * messages just sent: lookup, status merge, history and event append), and finally storage.
 * `runFlowOn` runs them on any backend; with two gateway processes the API calls and the known
 * webhooks go to each in turn, and half the accounts send their provider webhooks to each.
 */
export interface RateLimitRun {
  limit: number
  mode: 'alone' | 'mixed'
  sends: number
  achieved: number
  errorPct: number
  /** Most sends the simulator saw in any sliding second. */
  maxInAnySecond: number
  acceptPerSec: number
}

export interface SendRep {
  messages: number
  api: LoadResult
  /** First accept → last message at `sent` (gateway clock). */
  e2eMs: number
  perSec: number
  sent: number
  failed: number
  timedOut: boolean
  e2eLatency: LatencySummary
}

export interface FlowResult {
  rateLimit?: RateLimitRun[]
  send?: {
    accounts: number
    perAccountLimit: number
    reps: SendRep[]
    baseline: LoadResult[]
    cpu: { gateway?: CpuUse; baseline?: CpuUse }
    commits: { commitsPerSec: number; perCommit: number }
  }
  known?: { suite: SuiteResult; freshPairs: number }
  rssPeak: Record<string, Record<string, number>>
  storage?: StorageReport
  profile?: ProfileSummary
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms))

async function waitFor<T>(probe: () => Promise<T> | T, done: (v: T) => boolean, timeoutMs: number): Promise<{ value: T; timedOut: boolean }> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (done(value)) return { value, timedOut: false }
    if (Date.now() > deadline) return { value, timedOut: true }
    await pause(50)
  }
}

const SQLITE: BackendSpec = { kind: 'sqlite', processes: 1 }

/** The SQLite backend, with the send baseline on the same simulator. */
export function runFlow(ctx: RunContext, which: { rateLimit: boolean; send: boolean }): Promise<FlowResult> {
  return runFlowOn(ctx, SQLITE, which, { baseline: true })
}

export async function runFlowOn(ctx: RunContext, spec: BackendSpec, which: { rateLimit: boolean; send: boolean }, flowOpts: { baseline: boolean }): Promise<FlowResult> {
  const { opts, monitor, log } = ctx
  const out: FlowResult = { rssPeak: {} }
  const sqlite = spec.kind === 'sqlite'
  const tag = sqlite ? '' : ` [${backendId(spec)}]`
  const profileDir = opts.profile ? ctx.profileDir(sqlite ? 'flow' : `flow-${backendId(spec)}`) : undefined
  // `sent` comes back at once; delivered/read are pushed past the run so that the known-ingest
  // phase below is the only source of those statuses.
  const sim: Child = await startMetaSimulator(FLOW_SIM_ENV)
  let dep: Deployment | undefined
  let finished = false
  const sink = await startSink()
  const recips = recipients(60_000)
  let r = 0
  const nextRecipient = () => recips[r++ % recips.length] as string
  try {
    if (!sqlite) log(`send / rate limit on PostgreSQL + Redis, ${spec.processes} process(es)`)
    dep = await deploy(spec, { tmpRoot: ctx.tmpRoot, scenario: 'flow', services: opts.services, ...(profileDir ? { cpuProfDir: profileDir } : {}) })
    const d = dep
    d.gateways.forEach((g) => monitor.watch(g.name, g.pid))
    monitor.watch('simulator', sim.pid)
    monitor.takeWindowPeaks()
    // 32 connections in all, split between the processes when there are two
    const api: RequestPool & { close(): Promise<void> } = d.urls.length > 1 ? new RoundRobin(d.urls, { connections: 32, pipelining: 1 }) : new Pool(d.urls[0] as string, { connections: 32, pipelining: 1, keepAliveTimeout: 60_000 })
    /** Where account i sends its provider webhooks: each process in turn. */
    const gatewayFor = (i: number) => d.urls[i % d.urls.length] as string
    const probe: StoreProbe = await d.openProbe()
    try {
      if (which.rateLimit) {
        log(`rate limit${tag}`)
        const accts: BenchAccount[] = []
        for (const [i, limit] of opts.rateLimit.limits.entries()) {
          accts.push(await createBenchAccount({ gatewayUrl: gatewayFor(i), apiKey: d.apiKey, simUrl: sim.url, name: `bench-rl-${limit}`, series: 2, index: i, rateLimit: limit }))
        }
        const runs: RateLimitRun[] = []
        const once = async (group: BenchAccount[], mode: 'alone' | 'mixed', record = true) => {
          const counts = group.map((a) => Math.min(Math.round(a.rateLimit * opts.rateLimit.seconds), opts.rateLimit.maxPerRun ?? Infinity))
          const before = (await simStats(sim.url)).sent
          const t0 = Date.now()
          // Each account's burst comes from its own client, at once: with one interleaved stream the
          // slower account's messages would reach the gateway only at its share of the API's accept
          // rate, and the figure would measure the API, not how the worker shares the sending.
          const bursts = await Promise.all(
            group.map((a, g) =>
              fixedCount(api, (i) => sendMessageRequest(d.apiKey, a.name, nextRecipient(), `rate ${g}-${i}`), {
                count: counts[g] as number,
                concurrency: Math.max(1, Math.floor(opts.send.concurrency / group.length)),
              }),
            ),
          )
          const accepted = { throughput: bursts.reduce((t, b) => t + b.ok, 0) / (Math.max(...bursts.map((b) => b.elapsedMs)) / 1000), errors: bursts.reduce((t, b) => t + b.errors, 0), firstError: bursts.find((b) => b.firstError)?.firstError }
          const total = counts.reduce((t, c) => t + c, 0)
          const waited = await waitFor(() => simStats(sim.url), (s) => s.sent >= before + total, opts.rateLimit.seconds * 4_000 + 30_000)
          const records = (await simSent(sim.url)).filter((x) => x.at >= t0)
          for (const a of group) {
            const times = records.filter((x) => x.account === a.account.phoneNumberId).map((x) => x.at)
            const achieved = rateOf(times)
            const run: RateLimitRun = {
              limit: a.rateLimit,
              mode,
              sends: times.length,
              achieved,
              errorPct: (100 * (achieved - a.rateLimit)) / a.rateLimit,
              maxInAnySecond: maxInWindow(times, 1000),
              acceptPerSec: accepted.throughput,
            }
            if (record) runs.push(run)
            log(`  ${a.rateLimit}/s ${mode}${record ? '' : ' (warm-up, not counted)'}: ${achieved.toFixed(2)}/s (${run.errorPct >= 0 ? '+' : ''}${run.errorPct.toFixed(2)}%), max ${run.maxInAnySecond} in any second, ${times.length} sends${waited.timedOut ? ' (timed out waiting)' : ''}${accepted.errors ? `, ${accepted.errors} API errors (${accepted.firstError})` : ''}`)
          }
          await pause(300)
        }
        // One warm-up run first (a fresh process's first sends wait for JIT and connections), not counted.
        for (let rep = -1; rep < opts.rateLimit.reps; rep++) for (const a of accts) await once([a], 'alone', rep >= 0)
        await once(accts, 'mixed')
        out.rateLimit = runs
        out.rssPeak.rateLimit = monitor.takeWindowPeaks()
      }

      if (which.send) {
        const n = opts.send.accounts
        log(`send${tag}: ${n} accounts at 1000 msg/s each on one simulator`)
        const accts: BenchAccount[] = []
        for (let i = 0; i < n; i++) {
          accts.push(await createBenchAccount({ gatewayUrl: gatewayFor(i), apiKey: d.apiKey, simUrl: sim.url, name: `bench-send-${i}`, series: 3, index: i, rateLimit: 1000 }))
        }
        const reps: SendRep[] = []
        const markGw = monitor.mark()
        const countersBefore = await d.storeCounters()
        for (let rep = 0; rep < opts.reps; rep++) {
          const count = opts.send.messagesPerRep
          const t0 = Date.now()
          const accepted = await fixedCount(api, (i) => sendMessageRequest(d.apiKey, (accts[i % n] as BenchAccount).name, nextRecipient(), `bench ${rep}-${i}`), { count, concurrency: opts.send.concurrency })
          const waited = await waitFor(() => probe.progress(t0), (p) => p.sent + p.failed >= accepted.ok, 120_000)
          const p = waited.value
          const e2eMs = p.lastUpdate - t0
          const sendRep: SendRep = {
            messages: count,
            api: accepted,
            e2eMs,
            perSec: (p.sent * 1000) / e2eMs,
            sent: p.sent,
            failed: p.failed,
            timedOut: waited.timedOut,
            e2eLatency: summarize(await probe.sentLatencies(t0)),
          }
          reps.push(sendRep)
          log(`  send #${rep + 1}: ${Math.round(sendRep.perSec)} msg/s end to end (${p.sent}/${count} sent in ${e2eMs} ms), API ${Math.round(accepted.throughput)}/s p99 ${accepted.latency.p99.toFixed(1)} ms${accepted.errors ? `, ${accepted.errors} API errors (${accepted.firstError})` : ''}${p.failed ? `, ${p.failed} failed` : ''}${waited.timedOut ? ' TIMED OUT' : ''}`)
          await pause(500)
        }
        const cpuGateway = monitor.cpuBetween(markGw, monitor.mark())
        const sendCommits = commitRate(countersBefore, await d.storeCounters(), cpuGateway.seconds)
        out.rssPeak.send = monitor.takeWindowPeaks()

        let baseline: LoadResult[] = []
        let cpuBaseline: CpuUse | undefined
        if (flowOpts.baseline) {
          const b = await runSendBaseline(ctx, sim.url, sink.url, n, nextRecipient)
          baseline = b.baseline
          cpuBaseline = b.cpu
          out.rssPeak.sendBaseline = monitor.takeWindowPeaks()
        }
        out.send = { accounts: n, perAccountLimit: 1000, reps, baseline, cpu: { gateway: cpuGateway, ...(cpuBaseline ? { baseline: cpuBaseline } : {}) }, commits: sendCommits }

        log(`ingest${tag}: gateway (known messages: delivered, then read)`)
        const byId = new Map(accts.map((a) => [a.id, a]))
        const known = (await probe.sentMessages(accts.map((a) => a.id))).flatMap((m) => {
          const target = byId.get(m.accountId)
          return target ? [{ target, wamid: m.wamid, waId: m.urn.replace(/^tel:\+/, '').replace(/^whatsapp:/, '') }] : []
        })
        const pairs = known.length * 2
        if (known.length === 0) {
          log('  no sent messages to update: skipped')
        } else {
          const suite = await runIngestSuite({
            label: sqlite ? 'gateway-known' : `gateway-known ${backendId(spec)}`,
            url: d.urls[0] as string,
            ...(d.urls.length > 1 ? { urls: d.urls } : {}),
            make: (i) => {
              const k = known[i % known.length] as (typeof known)[number]
              const status = Math.floor(i / known.length) % 2 === 0 ? 'delivered' : 'read'
              return statusWebhook(k.target, { wamid: k.wamid, waId: k.waId }, status, Date.now())
            },
            opts: { ...opts, ingest: { ...opts.ingest, closedMs: opts.known.closedMs, openMs: opts.known.openMs } },
            monitor,
            ramp: false,
            log,
            storeCounters: () => d.storeCounters(),
          })
          out.known = { suite, freshPairs: pairs }
          log(`  ${suite.requestsSent} status webhooks for ${known.length} messages (${pairs} fresh status changes available)`)
        }
        out.rssPeak.knownIngest = monitor.takeWindowPeaks()
      }
    } finally {
      await probe.close()
      await api.close()
    }
    finished = true
  } finally {
    await dep?.stop()
    dep?.names.forEach((n) => monitor.unwatch(n))
    await sim.stop()
    monitor.unwatch('simulator')
    await new Promise<void>((resolve) => sink.server.close(() => resolve()))
    // a failed run still drops its PostgreSQL schema
    if (!finished) await dep?.dispose().catch(() => undefined)
  }
  try {
    out.storage = await dep.storage()
  } catch (err) {
    log(`  storage report failed: ${String(err)}`)
  }
  await dep.dispose()
  if (profileDir) {
    const profile = summarizeProfile(profileDir)
    if (profile) out.profile = profile
  }
  return out
}
