import type { LoadResult } from '../lib/load.js'
import { backendLabel } from '../lib/deployment.js'
import type { CpuUse } from '../lib/monitor.js'
import { describeSizing, postgresSizing, type BackendSpec } from '../lib/options.js'
import { checkServices, redactUrl } from '../lib/pg-services.js'
import type { RunContext } from './context.js'
import { runFlowOn, type FlowResult } from './flow.js'
import { bareOnlyTarget, runBareIngest, runGatewayIngest, type GatewayIngest } from './ingest.js'
import type { SuiteResult } from './ingest-suite.js'
import { runSendBaselineAlone } from './send-baseline.js'

/**
 * The same scenarios on PostgreSQL + Redis (`--backend postgres`, `postgres:1`, `postgres:2`): the
 * parked ingest, then rate limit, send and known ingest, each on fresh gateway process(es) and a
 * fresh schema, `opts.backendReps` times each (1 with `--quick`). When both services do not answer,
 * every variant is recorded as skipped with the reason. The ratios use the baselines of the SQLite
 * run when it ran; otherwise the bare route and the undici send baseline run here once.
 *
 * @example
 * const pg = await runBackends(ctx, [{ kind: 'postgres', processes: 2 }], { bare: true, sendBaseline: true }, fail)
 * pg.runs[0]?.ingest?.suite.maxSustained
 */
export interface BackendRun {
  spec: BackendSpec
  label: string
  /** Why it did not run (services unreachable). */
  skipped?: string
  ingest?: GatewayIngest
  flow?: FlowResult
  /** Scenarios that failed on this backend (details in the report's errors). */
  failed: string[]
}

export interface BackendsResult {
  database: string
  redis: string
  postgresVersion?: string
  reps: number
  /** How the runs were sized (fewer messages than the SQLite runs), for the report. */
  sizing?: string
  runs: BackendRun[]
  /** Baselines run for these backends because no SQLite scenario ran them. */
  bare?: { suite: SuiteResult; rssPeak: number }
  sendBaseline?: { baseline: LoadResult[]; cpu: CpuUse; rssPeak: Record<string, number> }
}

/** CPU of the database server and Redis (all their processes), beside the gateways'. */
export const SERVICE_GROUPS = {
  postgres: (comm: string) => comm === 'postgres' || comm === 'postmaster',
  redis: (comm: string) => comm.startsWith('redis-server'),
}

export async function runBackends(
  ctx: RunContext,
  specs: BackendSpec[],
  need: { bare: boolean; sendBaseline: boolean },
  fail: (what: string, err: unknown) => void,
): Promise<BackendsResult> {
  const { opts, log, monitor } = ctx
  const result: BackendsResult = { database: redactUrl(opts.services.databaseUrl), redis: redactUrl(opts.services.redisUrl), reps: opts.backendReps, runs: [] }
  if (specs.length === 0) return result
  const check = await checkServices(opts.services.databaseUrl, opts.services.redisUrl)
  if (!check.ok) {
    log(`PostgreSQL + Redis: skipped, ${check.reason}`)
    result.runs = specs.map((spec) => ({ spec, label: backendLabel(spec), skipped: check.reason, failed: [] }))
    return result
  }
  result.postgresVersion = check.postgresVersion
  log(`PostgreSQL ${check.postgresVersion} at ${result.database}, Redis at ${result.redis}`)
  const bctx: RunContext = { ...ctx, opts: postgresSizing(opts) }
  result.sizing = describeSizing(bctx.opts)
  const which = { rateLimit: opts.only.has('ratelimit'), send: opts.only.has('send') }
  for (const [name, match] of Object.entries(SERVICE_GROUPS)) monitor.watchGroup(name, match)
  try {
    for (const spec of specs) {
      const run: BackendRun = { spec, label: backendLabel(spec), failed: [] }
      result.runs.push(run)
      if (opts.only.has('ingest')) {
        try {
          run.ingest = (await runGatewayIngest(bctx, spec)).result
        } catch (err) {
          run.failed.push('ingest')
          fail(`ingest on ${run.label}`, err)
        }
      }
      if (which.rateLimit || which.send) {
        try {
          run.flow = await runFlowOn(bctx, spec, which, { baseline: false })
        } catch (err) {
          run.failed.push('send / rate limit')
          fail(`send / rate limit on ${run.label}`, err)
        }
      }
    }
    if (need.bare && opts.only.has('ingest')) {
      try {
        // the bare route as the SQLite run measures it (its ramp and pauses), with these repetitions
        result.bare = await runBareIngest({ ...ctx, opts: { ...opts, reps: opts.backendReps } }, bareOnlyTarget())
      } catch (err) {
        fail('ingest baseline (bare route)', err)
      }
    }
    if (need.sendBaseline && which.send) {
      try {
        result.sendBaseline = await runSendBaselineAlone(bctx)
      } catch (err) {
        fail('send baseline', err)
      }
    }
  } finally {
    for (const name of Object.keys(SERVICE_GROUPS)) monitor.unwatchGroup(name)
  }
  return result
}
