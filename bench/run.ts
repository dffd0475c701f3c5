import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { describeMachine } from './lib/machine.js'
import { ProcessMonitor } from './lib/monitor.js'
import { parseOptions } from './lib/options.js'
import { gatewayRuntime, REPO_ROOT } from './lib/procs.js'
import { extractAnalysis, renderReport, type RunReport } from './report.js'
import type { RunContext } from './scenarios/context.js'
import { disposeAll } from './lib/deployment.js'
import { runBackends } from './scenarios/backends.js'
import { runFlow } from './scenarios/flow.js'
import { runIngest } from './scenarios/ingest.js'

/**
 * `npm run bench`: every scenario with its baseline in the same run, then bench/RESULTS.md.
 * `npm run bench -- --quick` for a one-minute smoke run; see bench/lib/options.ts for the rest.
 */
const opts = parseOptions(process.argv.slice(2), process.env)
const started = Date.now()
const log = (line: string) => process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(1).padStart(6)} s] ${line}\n`)

const tmpRoot = mkdtempSync(join(tmpdir(), 'wagate-bench-'))
const monitor = new ProcessMonitor({ bench: process.pid })
const stamp = new Date(started).toISOString().replace(/[:.]/g, '-')
const ctx: RunContext = {
  opts,
  monitor,
  log,
  tmpRoot,
  profileDir: (scenario) => {
    const dir = join(REPO_ROOT, 'bench', 'profiles', `${stamp}-${scenario}`)
    mkdirSync(dir, { recursive: true })
    return dir
  },
}

const report: RunReport = {
  opts,
  machine: { ...describeMachine(tmpRoot, REPO_ROOT), gatewayRuntime: gatewayRuntime().description },
  loadAtEnd: [],
  startedAt: new Date(started),
  seconds: 0,
  otherCores: Number.NaN,
  errors: [],
}
log(`wagate bench${opts.quick ? ' (quick)' : ''}: ${report.machine.cores} × ${report.machine.cpu}, Node ${report.machine.node}, load ${report.machine.loadAverage.map((n) => n.toFixed(2)).join(' ')}`)
log(`gateway: ${report.machine.gatewayRuntime}`)
monitor.start()

const fail = (what: string, err: unknown) => {
  const text = `${what}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`
  report.errors.push(text)
  log(text)
}

// Ctrl-C: stop the gateways and drop the PostgreSQL schemas of the scenarios still running.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log(`${signal}: stopping the gateways and dropping their schemas`)
    void disposeAll(log).finally(() => {
      rmSync(tmpRoot, { recursive: true, force: true })
      process.exit(130)
    })
  })
}

const sqlite = opts.backends.some((b) => b.kind === 'sqlite')
const postgres = opts.backends.filter((b) => b.kind === 'postgres')
log(`backends: ${opts.backends.map((b) => (b.kind === 'sqlite' ? 'sqlite' : `postgres ×${b.processes}`)).join(', ')}`)

try {
  if (sqlite && opts.only.has('ingest')) {
    try {
      report.ingest = await runIngest(ctx)
    } catch (err) {
      fail('ingest', err)
    }
  }
  if (sqlite && (opts.only.has('send') || opts.only.has('ratelimit'))) {
    try {
      report.flow = await runFlow(ctx, { rateLimit: opts.only.has('ratelimit'), send: opts.only.has('send') })
    } catch (err) {
      fail('send / rate limit', err)
    }
  }
  if (postgres.length > 0) {
    // the SQLite run's baselines serve every backend; without it they run once here
    report.backends = await runBackends(ctx, postgres, { bare: !report.ingest, sendBaseline: !report.flow?.send }, fail)
  }
} finally {
  monitor.stop()
  rmSync(tmpRoot, { recursive: true, force: true })
}

report.seconds = (Date.now() - started) / 1000
report.loadAtEnd = loadavg()
report.otherCores = monitor.otherCoresAverage()
const out = resolve(REPO_ROOT, opts.out)
const previous = existsSync(out) ? readFileSync(out, 'utf8') : undefined
writeFileSync(out, renderReport(report, extractAnalysis(previous)))
log(`wrote ${out}`)
process.exitCode = report.errors.length > 0 ? 1 : 0
