import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Pool } from 'undici'
import { commitRate, createBenchAccount, recipients, storeCounters } from '../lib/gateway-api.js'
import { closedLoop } from '../lib/load.js'
import { requestFeed, statusWebhook, unknownWamid } from '../lib/meta-webhooks.js'
import { gatewayRuntime, startGateway } from '../lib/procs.js'
import { summarizeProfile } from '../lib/profile.js'

/**
 * Not part of `npm run bench`: one short ingest run (parked statuses, closed loop) against a gateway
 * under `--cpu-prof`, printing the profile's shares. For comparing where the time goes before and
 * after a change; the throughput it prints is only meaningful on a quiet machine.
 *
 * @example
 * npx tsx bench/experiments/profile-ingest.ts --seconds=5 --concurrency=32 --out=/tmp/prof/before
 */
const arg = (name: string, fallback: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback
const seconds = Number(arg('seconds', '5'))
const concurrency = Number(arg('concurrency', '32'))
const out = arg('out', mkdtempSync(join(tmpdir(), 'wagate-prof-')))

const dataDir = mkdtempSync(join(tmpdir(), 'wagate-prof-data-'))
const gw = await startGateway({ dataDir, cpuProfDir: out })
console.log(`gateway pid ${gw.pid}, ${gatewayRuntime().description}`)
try {
  const target = await createBenchAccount({ gatewayUrl: gw.url, apiKey: gw.apiKey, name: 'prof-in', series: 1, index: 0, rateLimit: 80 })
  const waIds = recipients(2_000).map((r) => r.slice(1))
  const make = (i: number) => {
    const waId = waIds[i % waIds.length] as string
    return statusWebhook(target, { wamid: unknownWamid(waId), waId }, 'delivered', Date.now())
  }
  const pool = new Pool(gw.url, { connections: concurrency, pipelining: 1, keepAliveTimeout: 60_000 })
  await closedLoop(pool, requestFeed(2_000, make).next, { durationMs: 1_000, concurrency }) // warm-up
  const before = await storeCounters(gw.url)
  const r = await closedLoop(pool, requestFeed(40_000, (i) => make(i + 10_000)).next, { durationMs: seconds * 1_000, concurrency })
  const commits = commitRate(before, await storeCounters(gw.url), r.elapsedMs / 1000)
  console.log(`closed loop: ${r.ok} ok, ${r.errors} errors, ${Math.round(r.throughput)}/s, p50 ${r.latency.p50.toFixed(1)} ms; ${Math.round(commits.commitsPerSec)} commits/s, ${commits.perCommit.toFixed(1)} tx per commit`)
  await pool.close()
} finally {
  await gw.stop()
  rmSync(dataDir, { recursive: true, force: true })
}
const summary = summarizeProfile(out)
if (summary) {
  console.log(`profile ${summary.file}: busy ${summary.busySeconds.toFixed(2)} s of ${summary.wallSeconds.toFixed(2)} s`)
  for (const c of summary.categories) console.log(`  ${c.pct.toFixed(1).padStart(5)}%  ${c.name}`)
  console.log('top functions:')
  for (const f of summary.functions) console.log(`  ${f.pct.toFixed(1).padStart(5)}%  ${f.name}`)
}
