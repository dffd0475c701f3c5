import { RATE_SAFETY } from '../src/engine/limiter.js'
import type { MachineInfo } from './lib/machine.js'
import type { CpuUse } from './lib/monitor.js'
import type { BenchOptions } from './lib/options.js'
import { medianOf } from './lib/stats.js'
import { backendSection, backendSummaryRows } from './report-backends.js'
import { cores, dec, int, mb, med, pct, profileBlock, rampTable, spread, verdict } from './report-format.js'
import type { BackendsResult } from './scenarios/backends.js'
import type { FlowResult, RateLimitRun } from './scenarios/flow.js'
import type { IngestResult } from './scenarios/ingest.js'
import type { SuiteResult } from './scenarios/ingest-suite.js'

/**
 * Renders bench/RESULTS.md from one run. Hand-written analysis between the ANALYSIS markers of the
 * previous file is carried over, so a rerun refreshes the figures without losing it.
 */
export interface RunReport {
  opts: BenchOptions
  machine: MachineInfo
  loadAtEnd: number[]
  startedAt: Date
  seconds: number
  /** Cores used by other processes on the machine over the whole run (noise indicator). */
  otherCores: number
  ingest?: IngestResult
  flow?: FlowResult
  /** PostgreSQL + Redis variants (report-backends.ts). */
  backends?: BackendsResult
  errors: string[]
}

export const ANALYSIS_START = '<!-- ANALYSIS:START (kept across runs) -->'
export const ANALYSIS_END = '<!-- ANALYSIS:END -->'

export function extractAnalysis(previous: string | undefined): string | undefined {
  if (!previous) return undefined
  const a = previous.indexOf(ANALYSIS_START)
  const b = previous.indexOf(ANALYSIS_END)
  return a >= 0 && b > a ? previous.slice(a + ANALYSIS_START.length, b).trim() : undefined
}

function suiteRow(label: string, s: SuiteResult | undefined, p99Target: number): string {
  if (!s) return `| ${label} | not run | | | | |`
  const closed = med(s.closed, (r) => r.throughput)
  const p50 = med(s.open, (r) => r.latency.p50)
  const p99 = med(s.open, (r) => r.latency.p99)
  const errors = [...s.closed, ...s.open].reduce((a, r) => a + r.errors, 0)
  const sustainedText = s.ramp.length === 0 ? '—' : s.maxSustained === undefined ? 'none' : `${int(s.maxSustained)}${s.rampLimitedByGenerator ? ' (load generator also behind at the failing step)' : ''}`
  return `| ${label} | ${spread(closed)} | ${sustainedText} | ${spread(p50, (n) => dec(n, 2))} | ${spread(p99, (n) => dec(n, 2))}${p99.median > p99Target ? ' ✗' : ''} | ${errors} |`
}

function rateRows(runs: RateLimitRun[]): string[] {
  const limits = [...new Set(runs.map((r) => r.limit))]
  const rows: string[] = []
  for (const mode of ['alone', 'mixed'] as const) {
    for (const limit of limits) {
      const rs = runs.filter((r) => r.limit === limit && r.mode === mode)
      if (rs.length === 0) continue
      const achieved = medianOf(rs.map((r) => r.achieved))
      const error = medianOf(rs.map((r) => r.errorPct))
      const worstError = Math.max(...rs.map((r) => Math.abs(r.errorPct)))
      const maxSec = Math.max(...rs.map((r) => r.maxInAnySecond))
      rows.push(`| ${int(limit)} | ${mode === 'alone' ? 'alone' : 'both at once'} | ${rs.length} | ${spread(achieved, (n) => dec(n, 2))} | ${spread(error, pct)} | ${int(maxSec)} | ${verdict(worstError <= 2)} |`)
    }
  }
  return rows
}

export function renderReport(r: RunReport, analysis: string | undefined): string {
  const { opts, machine } = r
  const ing = r.ingest
  const flow = r.flow
  const gwClosed = ing ? med(ing.gateway.closed, (x) => x.throughput) : undefined
  const bareClosed = ing ? med(ing.bare.closed, (x) => x.throughput) : undefined
  const ratio = gwClosed && bareClosed ? gwClosed.median / bareClosed.median : Number.NaN
  const parkedP99 = ing ? med(ing.gateway.open, (x) => x.latency.p99).median : Number.NaN
  const knownP99 = flow?.known ? med(flow.known.suite.open, (x) => x.latency.p99).median : Number.NaN
  const sendRate = flow?.send ? medianOf(flow.send.reps.map((x) => x.perSec)) : undefined
  const baseRate = flow?.send ? med(flow.send.baseline, (x) => x.throughput) : undefined
  const apiP99 = flow?.send ? medianOf(flow.send.reps.map((x) => x.api.latency.p99)) : undefined
  const rl = flow?.rateLimit ?? []
  const rlWorst = (limit: number) => {
    const rs = rl.filter((x) => x.limit === limit && x.mode === 'alone')
    return rs.length ? medianOf(rs.map((x) => x.errorPct)).median : Number.NaN
  }
  const allPeaks: number[] = [ing?.rssPeak.gateway ?? Number.NaN, ...Object.values(flow?.rssPeak ?? {}).map((p) => p.gateway ?? Number.NaN)].filter(Number.isFinite)
  const rssPeak = allPeaks.length ? Math.max(...allPeaks) : Number.NaN
  const st = flow?.storage
  const msgs = st?.rows.messages ?? 0

  const L: string[] = []
  L.push('# wagate benchmarks')
  L.push('')
  if (r.opts.note) L.push(`> **${r.opts.note}**`, '')
  if (opts.quick) L.push(`> Run with \`--quick\`: shorter phases, median of 3${r.backends?.runs.some((b) => !b.skipped) ? ' (PostgreSQL + Redis: one run each)' : ''} — a smoke test of the harness, not figures to quote.`, '')
  if (opts.profile) L.push('> Run with `--profile`: the gateway ran under `--cpu-prof`, which costs some throughput.', '')
  L.push(
    `Generated by \`npm run bench${opts.quick ? ' -- --quick' : ''}${commandBackends(opts)}\` on ${r.startedAt.toISOString()} in ${dec(r.seconds / 60, 1)} min. ` +
      `Each figure is the median of ${opts.reps} runs${r.backends?.runs.some((b) => !b.skipped) && r.backends.reps !== opts.reps ? ` (${r.backends.reps} on PostgreSQL + Redis)` : ''} (min–max in parentheses) unless it says otherwise.`,
  )
  L.push('')
  L.push('## Machine')
  L.push('')
  L.push('| | |', '|---|---|')
  L.push(`| CPU | ${machine.cpu}, ${machine.cores} cores |`)
  L.push(`| Memory | ${dec(machine.memoryGiB, 1)} GiB (${dec(machine.freeMemoryGiB, 1)} GiB free at start) |`)
  L.push(`| OS | ${machine.os} |`)
  L.push(`| Node | ${machine.node} |`)
  if (machine.gatewayRuntime) L.push(`| Gateway runs | ${machine.gatewayRuntime} |`)
  L.push(`| Data directory file system | ${machine.fileSystem} (SQLite WAL; every acknowledged write is fsynced: the WAL after each group commit, on libuv\'s thread pool) |`)
  L.push(`| Commit | ${machine.commit}${machine.uncommittedSrcFiles > 0 ? ` plus uncommitted changes in ${machine.uncommittedSrcFiles} files under src/ (work in progress at the time of the run)` : ''} |`)
  L.push(`| Load average at start / end | ${machine.loadAverage.map((n) => dec(n, 2)).join(', ')} / ${r.loadAtEnd.map((n) => dec(n, 2)).join(', ')} |`)
  L.push(`| Other processes (not this benchmark) | ${dec(r.otherCores, 2)} cores busy on average during the run |`)
  L.push('')
  L.push('## Summary against the targets (2-core machine)')
  L.push('')
  L.push('| figure | result | target | met |', '|---|---|---|---|')
  if (ing) {
    L.push(`| ingest, max sustained (parked statuses) | ${ing.gateway.maxSustained !== undefined ? `${int(ing.gateway.maxSustained)} webhooks/s` : 'none sustained'} | ≥ 10,000/s | ${verdict((ing.gateway.maxSustained ?? 0) >= 10_000)} |`)
    L.push(`| ingest, gateway ÷ bare route (closed-loop peaks) | ${dec(100 * ratio, 0)}% (${int(gwClosed?.median ?? Number.NaN)} vs ${int(bareClosed?.median ?? Number.NaN)}/s) | ≥ 40% | ${verdict(ratio >= 0.4)} |`)
    L.push(`| ingest p99 at 5,000/s, parked statuses | ${dec(parkedP99, 2)} ms | ≤ 25 ms | ${verdict(parkedP99 <= 25)} |`)
  }
  if (flow?.known) L.push(`| ingest p99 at 5,000/s, known messages (status merge + event) | ${dec(knownP99, 2)} ms | ≤ 25 ms | ${verdict(knownP99 <= 25)} |`)
  if (sendRate && baseRate) {
    L.push(`| send, end to end to \`sent\` | ${int(sendRate.median)} msg/s (${flow?.send?.accounts} accounts) | ≥ 5,000/s | ${verdict(sendRate.median >= 5_000)} |`)
    L.push(`| send, gateway ÷ undici-only baseline | ${dec((100 * sendRate.median) / baseRate.median, 0)}% (baseline ${int(baseRate.median)}/s) | — | — |`)
    L.push(`| send, API p99 at that load | ${dec(apiP99?.median ?? Number.NaN, 1)} ms | — | — |`)
  }
  for (const limit of opts.rateLimit.limits) {
    if (rl.some((x) => x.limit === limit)) L.push(`| rate limit ${int(limit)} msg/s, achieved vs limit | ${pct(rlWorst(limit))} | within ±2% | ${verdict(Math.abs(rlWorst(limit)) <= 2)} |`)
  }
  if (Number.isFinite(rssPeak)) L.push(`| gateway RSS, peak under load | ${mb(rssPeak)} | ≤ 200 MB | ${verdict(rssPeak <= 200 * 2 ** 20)} |`)
  if (st && msgs > 0) L.push(`| storage per stored message (all tables and indexes ÷ messages) | ${int(st.usedBytes / msgs)} bytes | — | — |`)
  L.push(...backendSummaryRows(r))

  if (ing || flow?.known) {
    L.push('', '## Ingest', '')
    L.push(
      'Signed Meta status webhooks (one status per POST, `X-Hub-Signature-256` over the raw body, the envelope the Meta simulator produces) to `/webhooks/meta/<account>`. ' +
        'The load generator is this process (undici Pool); the server under test runs in its own process.',
    )
    L.push('')
    L.push('- **parked**: statuses for message ids the gateway never sent. Per webhook: signature check, parse, one durable transaction inserting into `parked_statuses` (unique key = dedupe of provider retries), 200 after commit.')
    L.push('- **known**: `delivered` then `read` for messages the gateway sent in the send scenario. Per webhook: signature, parse, message lookup, history insert (unique = dedupe), monotonic status merge, event append, identity check, 200 after commit.')
    L.push(`- **bare**: a Fastify route in its own process that checks the same signature with the gateway's verifier and \`JSON.parse\`s the body, nothing else (bench/baseline/bare-webhook.ts).`)
    L.push('')
    L.push(
      `Closed loop: ${opts.ingest.connections} connections × pipelining ${opts.ingest.pipelining}, ${opts.ingest.closedMs / 1000} s per run. Open loop: fixed ${int(opts.ingest.openRate)}/s for ${opts.ingest.openMs / 1000} s (known: ${opts.known.openMs / 1000} s), latency from each request's scheduled send time.`,
    )
    L.push('')
    L.push('| receiver | closed-loop peak /s | max sustained /s | p50 at 5,000/s (ms) | p99 at 5,000/s (ms) | errors |', '|---|---:|---:|---:|---:|---:|')
    if (ing) L.push(suiteRow('gateway, parked', ing.gateway, 25))
    if (flow?.known) L.push(suiteRow('gateway, known messages', flow.known.suite, 25))
    if (ing) L.push(suiteRow('bare route', ing.bare, 25))
    if (flow?.known) {
      const k = flow.known
      const e = k.suite.phaseEnds
      const freshInOpen = Math.max(0, Math.min(k.freshPairs, e.open) - e.warmup)
      const openSent = e.open - e.warmup
      L.push(
        '',
        `Known variant: ${int(k.freshPairs)} fresh status changes were available (delivered and read for each message sent). ` +
          `The 5,000/s runs (after a warm-up of ${int(e.warmup)}) sent ${int(openSent)} webhooks, ${freshInOpen === openSent ? 'all fresh' : `${int(freshInOpen)} of them fresh and the rest repeats (dedupe path, no merge)`}; ` +
          `the closed-loop runs that followed sent ${int(e.closed - e.open)}, ${int(Math.max(0, Math.min(k.freshPairs, e.closed) - e.open))} of them fresh.`,
      )
    }
    if (ing) {
      L.push(...rampTable(ing.gateway), ...rampTable(ing.bare))
      L.push('', `Sustained means p99 ≤ ${opts.ingest.sustainP99Ms} ms over a ${opts.ingest.rampStepMs / 1000} s step; after the first failing step one rate halfway back is tried.`)
    }
  }

  if (flow?.send) {
    const s = flow.send
    L.push('', '## Send', '')
    L.push(
      `\`POST /v1/messages\` (text, a distinct recipient each) from this process, ${opts.send.concurrency} at a time, ${int(opts.send.messagesPerRep)} messages per run, round-robin over ${s.accounts} Meta accounts. ` +
        `The gateway's outbox worker sends them to the Meta simulator, running as its own process (\`src/simulators/meta/main.ts\`), which answers like Graph and posts the \`sent\` status webhook back at once. ` +
        "A message counts when its row reaches `sent`; the rate is messages ÷ (first accept → last `sent`, gateway clock, read from its SQLite file).",
    )
    L.push('')
    L.push(
      `The API caps \`rate_limit\` at 1,000 msg/s per account (and the worker paces at ${int(RATE_SAFETY * 100)}% of it), so one account can never reach 5,000/s: the run spreads over ${s.accounts} accounts on the same simulator (ceiling ${int(s.accounts * s.perAccountLimit * RATE_SAFETY)}/s from pacing alone).`,
    )
    L.push('')
    const e2e = medianOf(s.reps.map((x) => x.perSec))
    L.push('| | messages/s | API accepts/s | API p50 ms | API p99 ms | accept → sent p50 ms | accept → sent p99 ms | failed / timed out |', '|---|---:|---:|---:|---:|---:|---:|---|')
    L.push(
      `| gateway, end to end | ${spread(e2e)} | ${spread(medianOf(s.reps.map((x) => x.api.throughput)))} | ${spread(medianOf(s.reps.map((x) => x.api.latency.p50)), (n) => dec(n, 1))} | ${spread(medianOf(s.reps.map((x) => x.api.latency.p99)), (n) => dec(n, 1))} | ${spread(medianOf(s.reps.map((x) => x.e2eLatency.p50)), int)} | ${spread(medianOf(s.reps.map((x) => x.e2eLatency.p99)), int)} | ${s.reps.reduce((a, x) => a + x.failed + x.api.errors, 0)} / ${s.reps.filter((x) => x.timedOut).length} |`,
    )
    L.push(`| baseline: undici → simulator only | ${spread(med(s.baseline, (x) => x.throughput))} | — | ${spread(med(s.baseline, (x) => x.latency.p50), (n) => dec(n, 1))} | ${spread(med(s.baseline, (x) => x.latency.p99), (n) => dec(n, 1))} | — | — | ${s.baseline.reduce((a, x) => a + x.errors, 0)} |`)
    L.push('')
    L.push(`Baseline: the same simulator process, ${opts.send.baselineConcurrency} requests in flight, the Graph body the Meta adapter builds; its \`sent\` webhooks go to a sink in this process. It bounds what any client gets from this simulator on this machine.`)
    L.push('')
    L.push(`CPU during the gateway runs (cores): gateway ${cores(s.cpu.gateway, 'gateway')}, simulator ${cores(s.cpu.gateway, 'simulator')}, load generator ${cores(s.cpu.gateway, 'bench')}, other processes ${dec(s.cpu.gateway?.otherCores ?? Number.NaN, 2)}.`)
  }

  if (rl.length > 0) {
    L.push('', '## Rate limit', '')
    L.push(
      `Per limit, ${int(opts.rateLimit.seconds)} s worth of messages accepted in a burst ("both at once": each account's burst from its own client at the same time, so the faster account's backlog competes with the slower one in the outbox, not at the API); each limit alone runs once as a warm-up (not counted) before the counted runs; the achieved rate is what the simulator saw arrive: (sends − 1) ÷ (last − first arrival). ` +
        `Error = achieved ÷ limit − 1. The worker deliberately paces at ${int(RATE_SAFETY * 100)}% of the configured limit (RATE_SAFETY in src/engine/limiter.ts), so −${int(100 - RATE_SAFETY * 100)}% is the design point.`,
    )
    L.push('')
    L.push('| limit msg/s | accounts running | runs | achieved msg/s | error | most in any 1 s | within ±2% |', '|---:|---|---:|---:|---:|---:|---|')
    L.push(...rateRows(rl))
  }

  if (ing || flow) {
    L.push('', '## Memory', '')
    L.push('Resident set size of each process, sampled every 200 ms; the highest value per phase.')
    L.push('')
    L.push('| phase | gateway | simulator | bare route | load generator |', '|---|---:|---:|---:|---:|')
    if (ing) {
      L.push(`| gateway idle, right after start | ${mb(ing.rssIdle)} | — | — | — |`)
      L.push(`| ingest, gateway (parked) | ${mb(ing.rssPeak.gateway)} | — | — | — |`)
      L.push(`| ingest, bare route | — | — | ${mb(ing.rssPeak.bare)} | — |`)
    }
    for (const [phase, peaks] of Object.entries(flow?.rssPeak ?? {})) {
      L.push(`| ${phase} | ${mb(peaks.gateway)} | ${mb(peaks.simulator)} | — | ${mb(peaks.bench)} |`)
    }
  }

  if (st || ing?.storage) {
    L.push('', '## Storage', '')
  }
  if (st && msgs > 0) {
    L.push(
      `After the rate-limit, send and known-ingest phases (each message: accepted, queued, sending, sent; those the known phase reached also delivered/read), the SQLite file holds ${int(msgs)} messages, ` +
        `${int(st.rows.message_history ?? 0)} history rows, ${int(st.rows.events ?? 0)} events, ${int(st.rows.contacts ?? 0)} contacts. ` +
        `Used pages ${mb(st.usedBytes)} (file ${mb(st.fileBytes)}): **${int(st.usedBytes / msgs)} bytes per message**, all tables and indexes included.`,
    )
    L.push('')
    L.push('| table (with its indexes) | bytes | bytes per message |', '|---|---:|---:|')
    for (const [table, bytes] of Object.entries(st.tableBytes).sort((a, b) => b[1] - a[1]).slice(0, 10)) L.push(`| ${table} | ${int(bytes)} | ${dec(bytes / msgs, 0)} |`)
  }
  if (ing?.storage) {
    const p = ing.storage
    const parked = p.rows.parked_statuses ?? 0
    if (parked > 0) L.push('', `Parked variant: ${int(parked)} parked statuses in ${mb(p.usedBytes)} of pages, ${int((p.tableBytes.parked_statuses ?? p.usedBytes) / parked)} bytes each.`)
  }

  if (ing || flow) {
    L.push('', '## Where the time goes', '')
    L.push('Average cores used per process in each phase (1.00 = one core fully busy). The gateway runs JavaScript and SQLite (better-sqlite3 is synchronous) on one thread, and fsyncs the WAL on libuv\'s thread pool: ~1.0 means CPU-bound; well under 1.0 while saturated means it waits (for a CPU the machine does not give it, or for an fsync that every request of a commit waits for).')
    L.push('')
    L.push(
      'Store commits come from the gateway\'s /metrics: each commit is followed by an fsync of the WAL (on the thread pool; commits made while one runs share the next), and "tx per commit" is how many transactions the group commit carried in each.',
    )
    L.push('')
    L.push('| phase | gateway / server | load generator | simulator | other processes | store commits/s | tx per commit |', '|---|---:|---:|---:|---:|---:|---:|')
    const cpuRow = (label: string, c: CpuUse | undefined, server: string, commits?: { commitsPerSec: number; perCommit: number }) => {
      if (c) L.push(`| ${label} | ${cores(c, server)} | ${cores(c, 'bench')} | ${cores(c, 'simulator')} | ${dec(c.otherCores, 2)} | ${commits ? int(commits.commitsPerSec) : '—'} | ${commits ? dec(commits.perCommit, 1) : '—'} |`)
    }
    if (ing) {
      cpuRow('ingest parked, closed loop', ing.gateway.cpu.closed, 'gateway', ing.gateway.commits.closed)
      cpuRow('ingest parked, 5,000/s', ing.gateway.cpu.open, 'gateway', ing.gateway.commits.open)
      cpuRow('ingest parked, ramp', ing.gateway.cpu.ramp, 'gateway')
      cpuRow('bare route, closed loop', ing.bare.cpu.closed, 'bare')
      cpuRow('bare route, 5,000/s', ing.bare.cpu.open, 'bare')
    }
    if (flow?.known) {
      cpuRow('ingest known, closed loop', flow.known.suite.cpu.closed, 'gateway', flow.known.suite.commits.closed)
      cpuRow('ingest known, 5,000/s', flow.known.suite.cpu.open, 'gateway', flow.known.suite.commits.open)
    }
    if (flow?.send) {
      cpuRow('send, gateway', flow.send.cpu.gateway, 'gateway', flow.send.commits)
      cpuRow('send baseline', flow.send.cpu.baseline, 'gateway')
    }
    L.push(...profileBlock('gateway during ingest (parked)', ing?.profile), ...profileBlock('gateway during rate limit + send + known ingest', flow?.profile))
    if (!ing?.profile && !flow?.profile) L.push('', 'No CPU profile in this run; `npm run bench -- --profile` adds one per gateway process (files in bench/profiles/).')
  }

  L.push(...backendSection(r))

  L.push('', '## Analysis', '')
  L.push(ANALYSIS_START)
  L.push(analysis ?? '_No analysis written yet for these figures._')
  L.push(ANALYSIS_END)

  if (r.errors.length > 0) {
    L.push('', '## Errors during the run', '')
    for (const e of r.errors) L.push('```', e.slice(0, 2000), '```')
  }

  L.push('', '## How to run', '')
  L.push('```')
  L.push('npm run bench                 # full run, about seven minutes on 2 cores, writes bench/RESULTS.md')
  L.push('npm run bench -- --quick      # about a minute, smoke test')
  L.push('npm run bench -- --profile    # gateway under --cpu-prof, profile summary in RESULTS.md')
  L.push('npm run bench -- --quick --backend postgres   # PostgreSQL + Redis only (1 and 2 processes)')
  L.push('npm run bench -- --only=ingest,send,ratelimit --out=/tmp/r.md --note="text for the top"')
  L.push('```')
  L.push('')
  return L.join('\n')
}

/** ` -- --backend …` when the run did not use the default backends. */
function commandBackends(opts: BenchOptions): string {
  const names = opts.backends.map((b) => (b.kind === 'sqlite' ? 'sqlite' : `postgres:${b.processes}`))
  const all = names.join(',') === 'sqlite,postgres:1,postgres:2'
  if (all) return ''
  const text = names.join(',').replace('postgres:1,postgres:2', 'postgres')
  return `${opts.quick ? '' : ' --'} --backend=${text}`
}
