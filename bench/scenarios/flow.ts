import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { Pool } from 'undici'
import { buildMetaBody } from '../../src/providers/meta/body.js'
import { openProbe, storageReport, type StorageReport } from '../lib/db-probe.js'
import { addSimAccount, commitRate, createBenchAccount, recipients, sendMessageRequest, simAccountFor, simSent, simStats, storeCounters, type BenchAccount } from '../lib/gateway-api.js'
import { fixedCount, type BenchRequest, type LoadResult } from '../lib/load.js'
import { statusWebhook } from '../lib/meta-webhooks.js'
import type { CpuUse } from '../lib/monitor.js'
import { startGateway, startMetaSimulator, type Child, type GatewayProcess } from '../lib/procs.js'
import { summarizeProfile, type ProfileSummary } from '../lib/profile.js'
import { interleave, maxInWindow, rateOf, summarize, type LatencySummary } from '../lib/stats.js'
import type { RunContext } from './context.js'
import { runIngestSuite, type SuiteResult } from './ingest-suite.js'

/**
 * The scenarios that need the Meta simulator, on one gateway process: rate limits (accounts at 80
 * and 1,000 msg/s), send throughput end to end (API → outbox → simulator → `sent` webhook back),
 * its undici-only baseline, then the "known" ingest variant (delivered/read statuses for the
 * messages just sent: lookup, status merge, history and event append), and finally storage.
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

/** Answers every webhook 200 (the simulator's `sent` statuses during the send baseline). */
async function startSink(): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    req.resume()
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'))
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }
}

export async function runFlow(ctx: RunContext, which: { rateLimit: boolean; send: boolean }): Promise<FlowResult> {
  const { opts, monitor, log } = ctx
  const out: FlowResult = { rssPeak: {} }
  const dataDir = mkdtempSync(join(ctx.tmpRoot, 'flow-'))
  const profileDir = opts.profile ? ctx.profileDir('flow') : undefined
  // `sent` comes back at once; delivered/read are pushed past the run so that the known-ingest
  // phase below is the only source of those statuses.
  const sim: Child = await startMetaSimulator({ SIM_SENT_MS: '0', SIM_DELIVERED_MS: '3600000', SIM_READ_MS: '3600000' })
  let gw: GatewayProcess | undefined
  const sink = await startSink()
  const recips = recipients(60_000)
  let r = 0
  const nextRecipient = () => recips[r++ % recips.length] as string
  try {
    gw = await startGateway({ dataDir, ...(profileDir ? { cpuProfDir: profileDir } : {}) })
    monitor.watch('gateway', gw.pid)
    monitor.watch('simulator', sim.pid)
    monitor.takeWindowPeaks()
    const api = new Pool(gw.url, { connections: 32, pipelining: 1, keepAliveTimeout: 60_000 })
    const probe = openProbe(dataDir)
    try {
      if (which.rateLimit) {
        log('rate limit')
        const accts: BenchAccount[] = []
        for (const [i, limit] of opts.rateLimit.limits.entries()) {
          accts.push(await createBenchAccount({ gatewayUrl: gw.url, apiKey: gw.apiKey, simUrl: sim.url, name: `bench-rl-${limit}`, series: 2, index: i, rateLimit: limit }))
        }
        const runs: RateLimitRun[] = []
        const once = async (group: BenchAccount[], mode: 'alone' | 'mixed') => {
          const counts = group.map((a) => Math.round(a.rateLimit * opts.rateLimit.seconds))
          const seq = interleave(counts)
          const before = (await simStats(sim.url)).sent
          const t0 = Date.now()
          const gwRef = gw as GatewayProcess
          const accepted = await fixedCount(api, (i) => sendMessageRequest(gwRef.apiKey, (group[seq[i] as number] as BenchAccount).name, nextRecipient(), `rate ${i}`), { count: seq.length, concurrency: opts.send.concurrency })
          const total = seq.length
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
            runs.push(run)
            log(`  ${a.rateLimit}/s ${mode}: ${achieved.toFixed(2)}/s (${run.errorPct >= 0 ? '+' : ''}${run.errorPct.toFixed(2)}%), max ${run.maxInAnySecond} in any second, ${times.length} sends${waited.timedOut ? ' (timed out waiting)' : ''}${accepted.errors ? `, ${accepted.errors} API errors (${accepted.firstError})` : ''}`)
          }
          await pause(300)
        }
        for (let rep = 0; rep < opts.rateLimit.reps; rep++) for (const a of accts) await once([a], 'alone')
        await once(accts, 'mixed')
        out.rateLimit = runs
        out.rssPeak.rateLimit = monitor.takeWindowPeaks()
      }

      if (which.send) {
        const n = opts.send.accounts
        log(`send: ${n} accounts at 1000 msg/s each on one simulator`)
        const accts: BenchAccount[] = []
        for (let i = 0; i < n; i++) {
          accts.push(await createBenchAccount({ gatewayUrl: gw.url, apiKey: gw.apiKey, simUrl: sim.url, name: `bench-send-${i}`, series: 3, index: i, rateLimit: 1000 }))
        }
        const reps: SendRep[] = []
        const gwUrl = gw.url
        const markGw = monitor.mark()
        const countersBefore = await storeCounters(gwUrl)
        for (let rep = 0; rep < opts.reps; rep++) {
          const count = opts.send.messagesPerRep
          const t0 = Date.now()
          const gwRef = gw
          const accepted = await fixedCount(api, (i) => sendMessageRequest(gwRef.apiKey, (accts[i % n] as BenchAccount).name, nextRecipient(), `bench ${rep}-${i}`), { count, concurrency: opts.send.concurrency })
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
            e2eLatency: summarize(probe.sentLatencies(t0)),
          }
          reps.push(sendRep)
          log(`  send #${rep + 1}: ${Math.round(sendRep.perSec)} msg/s end to end (${p.sent}/${count} sent in ${e2eMs} ms), API ${Math.round(accepted.throughput)}/s p99 ${accepted.latency.p99.toFixed(1)} ms${accepted.errors ? `, ${accepted.errors} API errors (${accepted.firstError})` : ''}${p.failed ? `, ${p.failed} failed` : ''}${waited.timedOut ? ' TIMED OUT' : ''}`)
          await pause(500)
        }
        const cpuGateway = monitor.cpuBetween(markGw, monitor.mark())
        const sendCommits = commitRate(countersBefore, await storeCounters(gwUrl), cpuGateway.seconds)
        out.rssPeak.send = monitor.takeWindowPeaks()

        log('send baseline: undici straight to the simulator')
        const base = accts.map((_, i) => simAccountFor(4, i, `${sink.url}/hook`))
        for (const b of base) await addSimAccount(sim.url, b)
        const simPool = new Pool(sim.url, { connections: opts.send.baselineConcurrency, pipelining: 1, keepAliveTimeout: 60_000 })
        const baseline: LoadResult[] = []
        const markBase = monitor.mark()
        try {
          for (let rep = 0; rep < opts.reps; rep++) {
            const res = await fixedCount(
              simPool,
              (i): BenchRequest => {
                const acct = base[i % base.length] as (typeof base)[number]
                const body = buildMetaBody({ id: `b${rep}-${i}`, to: { phone: nextRecipient() }, content: { type: 'text', text: `baseline ${rep}-${i}` }, attempt: 1 })
                return {
                  method: 'POST',
                  path: `/v25.0/${acct.phoneNumberId}/messages`,
                  headers: { 'content-type': 'application/json', authorization: `Bearer ${acct.accessToken}` },
                  body: JSON.stringify(body),
                }
              },
              { count: opts.send.messagesPerRep, concurrency: opts.send.baselineConcurrency },
            )
            baseline.push(res)
            log(`  baseline #${rep + 1}: ${Math.round(res.throughput)} msg/s, p99 ${res.latency.p99.toFixed(1)} ms${res.errors ? `, ${res.errors} errors (${res.firstError})` : ''}`)
            await pause(300)
          }
        } finally {
          await simPool.close()
        }
        const cpuBaseline = monitor.cpuBetween(markBase, monitor.mark())
        out.rssPeak.sendBaseline = monitor.takeWindowPeaks()
        out.send = { accounts: n, perAccountLimit: 1000, reps, baseline, cpu: { gateway: cpuGateway, baseline: cpuBaseline }, commits: sendCommits }

        log('ingest: gateway (known messages: delivered, then read)')
        const byId = new Map(accts.map((a) => [a.id, a]))
        const known = probe.sentMessages(accts.map((a) => a.id)).flatMap((m) => {
          const target = byId.get(m.accountId)
          return target ? [{ target, wamid: m.wamid, waId: m.urn.replace(/^tel:\+/, '').replace(/^whatsapp:/, '') }] : []
        })
        const pairs = known.length * 2
        if (known.length === 0) {
          log('  no sent messages to update: skipped')
        } else {
          const suite = await runIngestSuite({
            label: 'gateway-known',
            url: gw.url,
            make: (i) => {
              const k = known[i % known.length] as (typeof known)[number]
              const status = Math.floor(i / known.length) % 2 === 0 ? 'delivered' : 'read'
              return statusWebhook(k.target, { wamid: k.wamid, waId: k.waId }, status, Date.now())
            },
            opts: { ...opts, ingest: { ...opts.ingest, closedMs: opts.known.closedMs, openMs: opts.known.openMs } },
            monitor,
            ramp: false,
            log,
            storeCounters: () => storeCounters(gwUrl),
          })
          out.known = { suite, freshPairs: pairs }
          log(`  ${suite.requestsSent} status webhooks for ${known.length} messages (${pairs} fresh status changes available)`)
        }
        out.rssPeak.knownIngest = monitor.takeWindowPeaks()
      }
    } finally {
      probe.close()
      await api.close()
    }
  } finally {
    await gw?.stop()
    monitor.unwatch('gateway')
    await sim.stop()
    monitor.unwatch('simulator')
    await new Promise<void>((resolve) => sink.server.close(() => resolve()))
  }
  try {
    out.storage = storageReport(dataDir)
  } catch (err) {
    log(`  storage report failed: ${String(err)}`)
  }
  rmSync(dataDir, { recursive: true, force: true })
  if (profileDir) {
    const profile = summarizeProfile(profileDir)
    if (profile) out.profile = profile
  }
  return out
}
