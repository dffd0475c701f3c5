import type { StorageReport } from '../lib/db-probe.js'
import { backendId, deploy } from '../lib/deployment.js'
import { createBenchAccount, recipients, simAccountFor, type BenchAccount } from '../lib/gateway-api.js'
import { statusWebhook, unknownWamid, type WebhookTarget } from '../lib/meta-webhooks.js'
import { processRssBytes } from '../lib/monitor.js'
import type { BackendSpec } from '../lib/options.js'
import { startBareRoute } from '../lib/procs.js'
import { summarizeProfile, type ProfileSummary } from '../lib/profile.js'
import type { RunContext } from './context.js'
import { runIngestSuite, type SuiteResult } from './ingest-suite.js'

/**
 * Ingest, "parked" variant: signed status webhooks for message ids the gateway has never sent.
 * Each is verified, parsed, and written durably to `parked_statuses` (a unique constraint dedupes
 * provider retries) before the 200 — the path every status takes when it outruns the send result.
 * The same requests then go to the bare route (signature + JSON parse only) in its own process.
 * `runGatewayIngest` runs the gateway half on any backend (PostgreSQL + Redis with one or two
 * processes: the webhooks then go to each process in turn).
 */
export interface IngestResult {
  gateway: SuiteResult
  bare: SuiteResult
  rssPeak: { gateway: number; bare: number }
  /** Gateway RSS right after start, before any load. */
  rssIdle: number
  storage?: StorageReport
  profile?: ProfileSummary
}

/** The gateway half on one backend; RSS per gateway process (`gateway`, `gateway-2`). */
export interface GatewayIngest {
  suite: SuiteResult
  rssIdle: Record<string, number>
  rssPeak: Record<string, number>
  storage?: StorageReport
  profile?: ProfileSummary
}

const SQLITE: BackendSpec = { kind: 'sqlite', processes: 1 }

const parked = (target: WebhookTarget, waIds: string[]) => (i: number) => {
  const waId = waIds[i % waIds.length] as string
  return statusWebhook(target, { wamid: unknownWamid(waId), waId }, 'delivered', Date.now())
}

export async function runGatewayIngest(ctx: RunContext, spec: BackendSpec): Promise<{ result: GatewayIngest; target: BenchAccount }> {
  const { opts, monitor, log } = ctx
  const sqlite = spec.kind === 'sqlite'
  const profileDir = opts.profile ? ctx.profileDir(sqlite ? 'ingest' : `ingest-${backendId(spec)}`) : undefined
  log(sqlite ? 'ingest: gateway (parked statuses)' : `ingest on PostgreSQL + Redis, ${spec.processes} process(es): gateway (parked statuses)`)
  const dep = await deploy(spec, { tmpRoot: ctx.tmpRoot, scenario: 'ingest', services: opts.services, ...(profileDir ? { cpuProfDir: profileDir } : {}) })
  const waIds = recipients(5_000).map((r) => r.slice(1))
  let suite: SuiteResult
  let target: BenchAccount
  let finished = false
  await new Promise((r) => setTimeout(r, 500))
  const rssIdle = Object.fromEntries(dep.gateways.map((g) => [g.name, processRssBytes(g.pid)]))
  try {
    dep.gateways.forEach((g) => monitor.watch(g.name, g.pid))
    monitor.takeWindowPeaks()
    target = await createBenchAccount({ gatewayUrl: dep.urls[0] as string, apiKey: dep.apiKey, name: 'bench-in', series: 1, index: 0, rateLimit: 80 })
    suite = await runIngestSuite({
      label: sqlite ? 'gateway' : `gateway ${backendId(spec)}`,
      url: dep.urls[0] as string,
      ...(dep.urls.length > 1 ? { urls: dep.urls } : {}),
      make: parked(target, waIds),
      opts,
      monitor,
      ramp: true,
      log,
      storeCounters: () => dep.storeCounters(),
    })
    finished = true
  } finally {
    await dep.stop()
    dep.names.forEach((n) => monitor.unwatch(n))
    // a failed run still drops its PostgreSQL schema
    if (!finished) await dep.dispose().catch(() => undefined)
  }
  const peaks = monitor.takeWindowPeaks()
  const rssPeak = Object.fromEntries(dep.names.map((n) => [n, peaks[n] ?? Number.NaN]))
  let storage: StorageReport | undefined
  try {
    storage = await dep.storage()
  } catch (err) {
    log(`  storage report failed: ${String(err)}`)
  }
  await dep.dispose()
  const profile = profileDir ? summarizeProfile(profileDir) : undefined
  return { result: { suite, rssIdle, rssPeak, ...(storage ? { storage } : {}), ...(profile ? { profile } : {}) }, target }
}

/** The bare route (verify + parse only) under the same suite, with the target's signing secret. */
export async function runBareIngest(ctx: RunContext, target: WebhookTarget): Promise<{ suite: SuiteResult; rssPeak: number }> {
  const { opts, monitor, log } = ctx
  log('ingest: bare route (verify + parse only)')
  const waIds = recipients(5_000).map((r) => r.slice(1))
  const bareProc = await startBareRoute(target.account.appSecret)
  let suite: SuiteResult
  try {
    monitor.watch('bare', bareProc.pid)
    suite = await runIngestSuite({ label: 'bare', url: bareProc.url, make: parked(target, waIds), opts, monitor, ramp: true, log })
  } finally {
    await bareProc.stop()
    monitor.unwatch('bare')
  }
  return { suite, rssPeak: monitor.takeWindowPeaks().bare ?? Number.NaN }
}

/** A webhook target for the bare route when no gateway ran before it (its own signing secret). */
export function bareOnlyTarget(): WebhookTarget {
  return { name: 'bench-in', account: simAccountFor(1, 0, 'http://127.0.0.1:9/') }
}

/** The SQLite gateway, then the bare route: the ingest scenario of the SQLite backend. */
export async function runIngest(ctx: RunContext): Promise<IngestResult> {
  const { result, target } = await runGatewayIngest(ctx, SQLITE)
  const bare = await runBareIngest(ctx, target)
  return {
    gateway: result.suite,
    bare: bare.suite,
    rssPeak: { gateway: result.rssPeak.gateway ?? Number.NaN, bare: bare.rssPeak },
    rssIdle: result.rssIdle.gateway ?? Number.NaN,
    ...(result.storage ? { storage: result.storage } : {}),
    ...(result.profile ? { profile: result.profile } : {}),
  }
}
