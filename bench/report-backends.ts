import type { LoadResult } from './lib/load.js'
import type { CpuUse } from './lib/monitor.js'
import { medianOf } from './lib/stats.js'
import type { RunReport } from './report.js'
import { dec, int, mb, med, pct, profileBlock, rampTable, spread, verdict } from './report-format.js'
import type { BackendRun } from './scenarios/backends.js'
import type { FlowResult, RateLimitRun } from './scenarios/flow.js'
import type { SuiteResult } from './scenarios/ingest-suite.js'

/**
 * The PostgreSQL + Redis part of RESULTS.md: rows for the summary, and a section whose tables have
 * a backend column — the SQLite figures of the same run beside one and two gateway processes on
 * PostgreSQL + Redis — with the ratios to the same baselines (bare route, undici-only send).
 *
 * @example
 * L.push(...backendSummaryRows(report), …, ...backendSection(report))
 */
interface Row {
  label: string
  ingest?: SuiteResult
  flow?: FlowResult
  /** RSS per phase, then per process name. */
  rss: Record<string, Record<string, number>>
  storage?: { messages: number; bytes: number; parked: number; parkedBytes: number }
  run?: BackendRun
}

const measured = (r: RunReport) => (r.backends?.runs ?? []).filter((b) => !b.skipped)

/** SQLite (when it ran) and each PostgreSQL variant that ran, in run order. */
function rows(r: RunReport): Row[] {
  const out: Row[] = []
  if (r.ingest || r.flow) {
    const st = r.flow?.storage
    const ps = r.ingest?.storage
    out.push({
      label: 'SQLite, 1 process',
      ...(r.ingest ? { ingest: r.ingest.gateway } : {}),
      ...(r.flow ? { flow: r.flow } : {}),
      rss: {
        ...(r.ingest ? { idle: { gateway: r.ingest.rssIdle }, ingest: { gateway: r.ingest.rssPeak.gateway } } : {}),
        ...(r.flow?.rssPeak ?? {}),
      },
      ...(st || ps
        ? { storage: { messages: st?.rows.messages ?? 0, bytes: st?.usedBytes ?? Number.NaN, parked: ps?.rows.parked_statuses ?? 0, parkedBytes: ps ? (ps.tableBytes.parked_statuses ?? ps.usedBytes) : Number.NaN } }
        : {}),
    })
  }
  for (const b of measured(r)) {
    const st = b.flow?.storage
    const ps = b.ingest?.storage
    out.push({
      label: b.label,
      ...(b.ingest ? { ingest: b.ingest.suite } : {}),
      ...(b.flow ? { flow: b.flow } : {}),
      rss: { ...(b.ingest ? { idle: b.ingest.rssIdle, ingest: b.ingest.rssPeak } : {}), ...(b.flow?.rssPeak ?? {}) },
      ...(st || ps
        ? { storage: { messages: st?.rows.messages ?? 0, bytes: st?.usedBytes ?? Number.NaN, parked: ps?.rows.parked_statuses ?? 0, parkedBytes: ps?.tableBytes.parked_statuses ?? Number.NaN } }
        : {}),
      run: b,
    })
  }
  return out
}

function baselines(r: RunReport): { bare?: SuiteResult; send?: LoadResult[] } {
  const bare = r.ingest?.bare ?? r.backends?.bare?.suite
  const send = r.flow?.send?.baseline.length ? r.flow.send.baseline : r.backends?.sendBaseline?.baseline
  return { ...(bare ? { bare } : {}), ...(send ? { send } : {}) }
}

const closedPeak = (s: SuiteResult) => med(s.closed, (x) => x.throughput).median
const sendRate = (f: FlowResult | undefined) => (f?.send ? medianOf(f.send.reps.map((x) => x.perSec)) : undefined)
const rateError = (runs: RateLimitRun[], limit: number) => {
  const rs = runs.filter((x) => x.limit === limit && x.mode === 'alone')
  return rs.length ? medianOf(rs.map((x) => x.errorPct)).median : Number.NaN
}
/** Cores of every gateway process together (`gateway`, `gateway-2`). */
const gatewayCores = (c: CpuUse | undefined) => {
  if (!c) return Number.NaN
  const names = Object.keys(c.cores).filter((n) => /^gateway(-\d+)?$/.test(n))
  return names.length ? names.reduce((a, n) => a + (c.cores[n] ?? Number.NaN), 0) : Number.NaN
}
const coresOf = (c: CpuUse | undefined, name: string) => dec(c?.cores[name] ?? Number.NaN, 2)
/** One figure per gateway process: "120 MB / 131 MB". */
const perProcess = (peaks: Record<string, number> | undefined) => {
  const names = Object.keys(peaks ?? {})
    .filter((n) => /^gateway(-\d+)?$/.test(n))
    .sort()
  return names.length ? names.map((n) => mb(peaks?.[n])).join(' / ') : 'n/a'
}

export function backendSummaryRows(r: RunReport): string[] {
  const b = r.backends
  if (!b) return ['| PostgreSQL + Redis | not run: `--backend` left it out | — | — |']
  const skipped = b.runs.find((x) => x.skipped)
  const L: string[] = []
  if (skipped) L.push(`| PostgreSQL + Redis | skipped: ${skipped.skipped} | — | — |`)
  const base = baselines(r)
  for (const run of measured(r)) {
    if (run.ingest) {
      const s = run.ingest.suite
      const ratio = base.bare ? closedPeak(s) / closedPeak(base.bare) : Number.NaN
      L.push(`| ingest, max sustained — ${run.label} | ${s.maxSustained !== undefined ? `${int(s.maxSustained)} webhooks/s` : 'none sustained'} (closed loop ${dec(100 * ratio, 0)}% of the bare route) | ≥ 10,000/s, ≥ 40% | ${verdict((s.maxSustained ?? 0) >= 10_000 && ratio >= 0.4)} |`)
    }
    const rate = sendRate(run.flow)
    if (rate) L.push(`| send, end to end — ${run.label} | ${int(rate.median)} msg/s | ≥ 5,000/s | ${verdict(rate.median >= 5_000)} |`)
    const rl = run.flow?.rateLimit ?? []
    if (rl.length) {
      const limits = [...new Set(rl.map((x) => x.limit))]
      const errs = limits.map((l) => rateError(rl, l))
      L.push(`| rate limit ${limits.map(int).join(' / ')} msg/s — ${run.label} | ${errs.map(pct).join(' / ')} | within ±2% | ${verdict(errs.every((e) => Math.abs(e) <= 2))} |`)
    }
    if (run.failed.length) L.push(`| ${run.label} | failed: ${run.failed.join(', ')} (see Errors) | — | — |`)
  }
  return L
}

function suiteCells(s: SuiteResult | undefined, bare: SuiteResult | undefined, withRatio: boolean): string {
  if (!s) return withRatio ? 'not run | | | | | ' : 'not run | | | '
  const p50 = med(s.open, (x) => x.latency.p50)
  const p99 = med(s.open, (x) => x.latency.p99)
  const errors = [...s.closed, ...s.open].reduce((a, x) => a + x.errors, 0)
  const ratio = bare ? closedPeak(s) / closedPeak(bare) : Number.NaN
  const sustainedText = s.ramp.length === 0 ? '—' : s.maxSustained === undefined ? 'none' : `${int(s.maxSustained)}${s.rampLimitedByGenerator ? ' (generator also behind)' : ''}`
  const head = `${spread(med(s.closed, (x) => x.throughput))} | ${withRatio ? `${bare ? `${dec(100 * ratio, 0)}%` : '—'} | ${sustainedText} | ` : ''}`
  return `${head}${spread(p50, (n) => dec(n, 2))} | ${spread(p99, (n) => dec(n, 2))}${p99.median > 25 ? ' ✗' : ''} | ${errors}`
}

export function backendSection(r: RunReport): string[] {
  const b = r.backends
  const L: string[] = ['', '## PostgreSQL + Redis', '']
  if (!b) {
    L.push('Not run: `--backend` selected SQLite only. `npm run bench -- --backend postgres` runs the same scenarios on PostgreSQL + Redis with one and two gateway processes.')
    return L
  }
  const skipped = b.runs.filter((x) => x.skipped)
  if (skipped.length > 0) {
    L.push(`**Skipped** (${skipped.map((x) => x.label).join('; ')}): ${skipped[0]?.skipped}. Start both services, or point WAGATE_BENCH_DATABASE_URL and WAGATE_BENCH_REDIS_URL at them, and rerun.`)
    if (skipped.length === b.runs.length) return L
    L.push('')
  }
  const base = baselines(r)
  const all = rows(r)
  L.push(
    `The same scenarios with the gateway on PostgreSQL ${b.postgresVersion ?? ''} (${b.database}) and Redis (${b.redis}), both on this machine and sharing its cores with everything else. ` +
      'Each scenario creates a fresh schema (`wagate_bench_…`, passed as `?schema=`) and drops it afterwards. ' +
      '**1 process**: one `wagate serve` (role all: API, webhooks, outbox worker) with WAGATE_DATABASE_URL and WAGATE_REDIS_URL (shared limiter and wake-ups). ' +
      '**2 processes**: two such processes on the same schema and Redis, with the same API and secret keys. ' +
      'The load generator sends to each in turn (the same connections in all, split between them); half of the accounts have their provider webhooks (`sent` statuses) posted to each; both workers lease from the one outbox. ' +
      `Median of ${b.reps} runs per figure; ratios are to the baselines of this run (bare route, undici-only send). ${b.sizing ?? ''} Store defaults: pool of 10 connections per process, READ COMMITTED, one transaction per write.`,
  )

  if (all.some((x) => x.ingest)) {
    L.push('', '### Ingest (parked statuses)', '')
    L.push('| backend | closed-loop peak /s | ÷ bare route | max sustained /s | p50 at 5,000/s (ms) | p99 at 5,000/s (ms) | errors |', '|---|---:|---:|---:|---:|---:|---:|')
    for (const x of all) if (x.ingest) L.push(`| ${x.label} | ${suiteCells(x.ingest, base.bare, true)} |`)
    if (base.bare) L.push(`| bare route (baseline) | ${suiteCells(base.bare, undefined, true)} |`)
    for (const x of all) if (x.run && x.ingest) L.push(...rampTable(x.ingest))
  }

  if (all.some((x) => x.flow?.known)) {
    L.push('', '### Ingest (known messages: delivered, then read)', '')
    L.push('| backend | closed-loop peak /s | p50 at 5,000/s (ms) | p99 at 5,000/s (ms) | errors |', '|---|---:|---:|---:|---:|')
    for (const x of all) if (x.flow?.known) L.push(`| ${x.label} | ${suiteCells(x.flow.known.suite, undefined, false)} |`)
  }

  if (all.some((x) => x.flow?.send)) {
    const baseRate = base.send ? med(base.send, (x) => x.throughput) : undefined
    L.push('', '### Send', '')
    L.push('| backend | messages/s | ÷ undici baseline | API accepts/s | API p99 ms | accept → sent p50 ms | accept → sent p99 ms | failed / timed out |', '|---|---:|---:|---:|---:|---:|---:|---|')
    for (const x of all) {
      const s = x.flow?.send
      if (!s) continue
      const e2e = medianOf(s.reps.map((y) => y.perSec))
      L.push(
        `| ${x.label} | ${spread(e2e)} | ${baseRate ? `${dec((100 * e2e.median) / baseRate.median, 0)}%` : 'n/a'} | ${spread(medianOf(s.reps.map((y) => y.api.throughput)))} | ${spread(medianOf(s.reps.map((y) => y.api.latency.p99)), (n) => dec(n, 1))} | ${spread(medianOf(s.reps.map((y) => y.e2eLatency.p50)))} | ${spread(medianOf(s.reps.map((y) => y.e2eLatency.p99)))} | ${s.reps.reduce((a, y) => a + y.failed + y.api.errors, 0)} / ${s.reps.filter((y) => y.timedOut).length} |`,
      )
    }
    if (base.send && baseRate) L.push(`| undici → simulator only (baseline) | ${spread(baseRate)} | — | — | ${spread(med(base.send, (x) => x.latency.p99), (n) => dec(n, 1))} | — | — | ${base.send.reduce((a, x) => a + x.errors, 0)} |`)
  }

  if (all.some((x) => x.flow?.rateLimit?.length)) {
    L.push('', '### Rate limit', '')
    L.push('Achieved = what the simulator saw arrive for the account, from every gateway process together (with two, both workers pace through the shared Redis limiter).', '')
    L.push('| backend | limit msg/s | accounts running | runs | achieved msg/s | error | most in any 1 s | within ±2% |', '|---|---:|---|---:|---:|---:|---:|---|')
    for (const x of all) {
      const runs = x.flow?.rateLimit ?? []
      for (const mode of ['alone', 'mixed'] as const) {
        for (const limit of [...new Set(runs.map((y) => y.limit))]) {
          const rs = runs.filter((y) => y.limit === limit && y.mode === mode)
          if (rs.length === 0) continue
          const worst = Math.max(...rs.map((y) => Math.abs(y.errorPct)))
          L.push(
            `| ${x.label} | ${int(limit)} | ${mode === 'alone' ? 'alone' : 'both at once'} | ${rs.length} | ${spread(medianOf(rs.map((y) => y.achieved)), (n) => dec(n, 2))} | ${spread(medianOf(rs.map((y) => y.errorPct)), pct)} | ${int(Math.max(...rs.map((y) => y.maxInAnySecond)))} | ${verdict(worst <= 2)} |`,
          )
        }
      }
    }
  }

  L.push('', '### Memory and storage', '')
  L.push('Peak RSS of each gateway process per phase (two figures for two processes).', '')
  const phases = ['idle', 'ingest', 'rateLimit', 'send', 'knownIngest']
  L.push(`| backend | ${phases.join(' | ')} |`, `|---|${phases.map(() => '---:').join('|')}|`)
  for (const x of all) L.push(`| ${x.label} | ${phases.map((p) => perProcess(x.rss[p])).join(' | ')} |`)
  L.push('')
  L.push('Storage after the rate-limit, send and known-ingest phases: every table with its indexes (SQLite: used pages; PostgreSQL: `pg_total_relation_size`, which counts dead row versions that autovacuum has not reclaimed yet).', '')
  L.push('| backend | messages | bytes | bytes per message | parked statuses | bytes per parked status |', '|---|---:|---:|---:|---:|---:|')
  for (const x of all) {
    const s = x.storage
    if (!s) continue
    L.push(`| ${x.label} | ${int(s.messages)} | ${mb(s.bytes)} | ${s.messages > 0 ? int(s.bytes / s.messages) : 'n/a'} | ${int(s.parked)} | ${s.parked > 0 ? int(s.parkedBytes / s.parked) : 'n/a'} |`)
  }

  L.push('', '### Where the time goes', '')
  L.push(
    'Average cores per phase. "PostgreSQL" and "Redis" are every process of those servers, so they include other clients of the same servers (other test runs on this machine); "other" is everything else. Store commits: on PostgreSQL each write is its own transaction, summed over the processes.',
    '',
  )
  L.push('| backend | phase | gateway(s) | PostgreSQL | Redis | load generator | simulator | other | store commits/s |', '|---|---|---:|---:|---:|---:|---:|---:|---:|')
  for (const x of all) {
    const phase = (name: string, c: CpuUse | undefined, commits?: { commitsPerSec: number }) => {
      if (c) L.push(`| ${x.label} | ${name} | ${dec(gatewayCores(c), 2)} | ${coresOf(c, 'postgres')} | ${coresOf(c, 'redis')} | ${coresOf(c, 'bench')} | ${coresOf(c, 'simulator')} | ${dec(c.otherCores, 2)} | ${commits ? int(commits.commitsPerSec) : '—'} |`)
    }
    phase('ingest parked, closed loop', x.ingest?.cpu.closed, x.ingest?.commits.closed)
    phase('ingest parked, 5,000/s', x.ingest?.cpu.open, x.ingest?.commits.open)
    phase('ingest known, closed loop', x.flow?.known?.suite.cpu.closed, x.flow?.known?.suite.commits.closed)
    phase('send', x.flow?.send?.cpu.gateway, x.flow?.send?.commits)
  }
  for (const x of all) if (x.run) L.push(...profileBlock(`busiest gateway process, ${x.label} (ingest)`, x.run.ingest?.profile), ...profileBlock(`busiest gateway process, ${x.label} (rate limit + send + known ingest)`, x.run.flow?.profile))
  return L
}
