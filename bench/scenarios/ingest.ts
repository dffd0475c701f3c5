import { mkdtempSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { storageReport, type StorageReport } from '../lib/db-probe.js'
import { createBenchAccount, recipients, storeCounters } from '../lib/gateway-api.js'
import { statusWebhook, unknownWamid } from '../lib/meta-webhooks.js'
import { processRssBytes } from '../lib/monitor.js'
import { startBareRoute, startGateway } from '../lib/procs.js'
import { summarizeProfile, type ProfileSummary } from '../lib/profile.js'
import type { RunContext } from './context.js'
import { runIngestSuite, type SuiteResult } from './ingest-suite.js'

/**
 * Ingest, "parked" variant: signed status webhooks for message ids the gateway has never sent.
 * Each is verified, parsed, and written durably to `parked_statuses` (a unique constraint dedupes
 * provider retries) before the 200 — the path every status takes when it outruns the send result.
 * The same requests then go to the bare route (signature + JSON parse only) in its own process.
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

export async function runIngest(ctx: RunContext): Promise<IngestResult> {
  const { opts, monitor, log } = ctx
  const dataDir = mkdtempSync(join(ctx.tmpRoot, 'ingest-'))
  const profileDir = opts.profile ? ctx.profileDir('ingest') : undefined
  log('ingest: gateway (parked statuses)')
  const gw = await startGateway({ dataDir, ...(profileDir ? { cpuProfDir: profileDir } : {}) })
  const waIds = recipients(5_000).map((r) => r.slice(1))
  let gateway: SuiteResult
  let target
  await new Promise((r) => setTimeout(r, 500))
  const rssIdle = processRssBytes(gw.pid)
  try {
    monitor.watch('gateway', gw.pid)
    monitor.takeWindowPeaks()
    target = await createBenchAccount({ gatewayUrl: gw.url, apiKey: gw.apiKey, name: 'bench-in', series: 1, index: 0, rateLimit: 80 })
    const t = target
    gateway = await runIngestSuite({
      label: 'gateway',
      url: gw.url,
      make: (i) => {
        const waId = waIds[i % waIds.length] as string
        return statusWebhook(t, { wamid: unknownWamid(waId), waId }, 'delivered', Date.now())
      },
      opts,
      monitor,
      ramp: true,
      log,
      storeCounters: () => storeCounters(gw.url),
    })
  } finally {
    await gw.stop()
    monitor.unwatch('gateway')
  }
  const gatewayPeak = monitor.takeWindowPeaks().gateway ?? Number.NaN
  let storage: StorageReport | undefined
  try {
    storage = storageReport(dataDir)
  } catch (err) {
    log(`  storage report failed: ${String(err)}`)
  }
  rmSync(dataDir, { recursive: true, force: true })

  log('ingest: bare route (verify + parse only)')
  const bareProc = await startBareRoute(target.account.appSecret)
  let bare: SuiteResult
  try {
    monitor.watch('bare', bareProc.pid)
    const t = target
    bare = await runIngestSuite({
      label: 'bare',
      url: bareProc.url,
      make: (i) => {
        const waId = waIds[i % waIds.length] as string
        return statusWebhook(t, { wamid: unknownWamid(waId), waId }, 'delivered', Date.now())
      },
      opts,
      monitor,
      ramp: true,
      log,
    })
  } finally {
    await bareProc.stop()
    monitor.unwatch('bare')
  }
  const barePeak = monitor.takeWindowPeaks().bare ?? Number.NaN
  const profile = profileDir ? summarizeProfile(profileDir) : undefined
  return { gateway, bare, rssPeak: { gateway: gatewayPeak, bare: barePeak }, rssIdle, ...(storage ? { storage } : {}), ...(profile ? { profile } : {}) }
}
