import { describe, expect, it } from 'vitest'
import type { LoadResult } from './lib/load.js'
import { parseOptions } from './lib/options.js'
import { ANALYSIS_END, ANALYSIS_START, extractAnalysis, renderReport, type RunReport } from './report.js'
import type { SuiteResult } from './scenarios/ingest-suite.js'

const load = (throughput: number, p99: number): LoadResult => ({
  sent: 100,
  ok: 100,
  errors: 0,
  statuses: { '200': 100 },
  elapsedMs: 1000,
  throughput,
  latency: { p50: p99 / 4, p90: p99 / 2, p99, max: p99 * 2 },
})

const suite = (label: string, closed: number[], p99s: number[], maxSustained?: number): SuiteResult => ({
  label,
  closed: closed.map((t) => load(t, 50)),
  open: p99s.map((p) => load(5000, p)),
  ramp: maxSustained === undefined ? [] : [{ rate: maxSustained, result: load(maxSustained, 20), ok: true }],
  maxSustained,
  rampLimitedByGenerator: false,
  cpu: {},
  commits: {},
  requestsSent: 1000,
  phaseEnds: { warmup: 100, open: 600, closed: 1000 },
})

const base: RunReport = {
  opts: parseOptions(['--note=preliminary: shared machine', '--backend=sqlite']),
  machine: { cpu: 'Test CPU', cores: 2, memoryGiB: 4, freeMemoryGiB: 2, os: 'Linux test', node: 'v20.0.0', fileSystem: '/dev/x ext4', commit: 'abc1234', uncommittedSrcFiles: 0, loadAverage: [1, 1, 1] },
  loadAtEnd: [2, 1, 1],
  startedAt: new Date('2026-01-01T00:00:00Z'),
  seconds: 200,
  otherCores: 0.5,
  errors: [],
}

describe('renderReport', () => {
  const withIngest: RunReport = {
    ...base,
    ingest: {
      gateway: suite('gateway', [9000, 11000, 10000, 12000, 8000], [20, 30, 24, 26, 22], 10000),
      bare: suite('bare', [25000, 24000, 26000, 20000, 30000], [3, 3, 3, 3, 3]),
      rssPeak: { gateway: 150 * 2 ** 20, bare: 80 * 2 ** 20 },
      rssIdle: 90 * 2 ** 20,
    },
  }
  const text = renderReport(withIngest, undefined)

  it('states the machine, the Node version and the note', () => {
    expect(text).toContain('Test CPU, 2 cores')
    expect(text).toContain('| Node | v20.0.0 |')
    expect(text).toContain('> **preliminary: shared machine**')
    expect(text).toContain('median of 5 runs')
  })

  it('reports medians with their spread, the ratio to the bare route, and the targets met or not', () => {
    // gateway closed-loop median 10,000 over bare 25,000 → 40%
    expect(text).toContain('| ingest, gateway ÷ bare route (closed-loop peaks) | 40% (10,000 vs 25,000/s) | ≥ 40% | yes |')
    expect(text).toContain('| ingest, max sustained (parked statuses) | 10,000 webhooks/s | ≥ 10,000/s | yes |')
    // p99 median 24 ms ≤ 25
    expect(text).toContain('| ingest p99 at 5,000/s, parked statuses | 24.00 ms | ≤ 25 ms | yes |')
    expect(text).toContain('| gateway, parked | 10,000 (8,000–12,000) | 10,000 | 6.00 (5.00–7.50) | 24.00 (20.00–30.00) | 0 |')
    expect(text).toContain('| bare route | 25,000 (20,000–30,000) | — |')
    expect(text).toContain('| gateway RSS, peak under load | 150 MB | ≤ 200 MB | yes |')
  })

  it('says when PostgreSQL + Redis were left out by --backend', () => {
    expect(text).toMatch(/## PostgreSQL \+ Redis\n\nNot run: `--backend` selected SQLite only\./)
    expect(text).toContain('| PostgreSQL + Redis | not run: `--backend` left it out | — | — |')
  })

  it('says why PostgreSQL + Redis were skipped', () => {
    const reason = 'PostgreSQL at postgres://postgres@127.0.0.1:5432/test is not reachable (connect ECONNREFUSED 127.0.0.1:5432)'
    const skipped = renderReport(
      {
        ...withIngest,
        backends: {
          database: 'postgres://postgres@127.0.0.1:5432/test',
          redis: 'redis://127.0.0.1:6379',
          reps: 5,
          runs: [
            { spec: { kind: 'postgres', processes: 1 }, label: 'PostgreSQL + Redis, 1 process', skipped: reason, failed: [] },
            { spec: { kind: 'postgres', processes: 2 }, label: 'PostgreSQL + Redis, 2 processes', skipped: reason, failed: [] },
          ],
        },
      },
      undefined,
    )
    expect(skipped).toContain(`| PostgreSQL + Redis | skipped: ${reason} | — | — |`)
    expect(skipped).toContain(`**Skipped** (PostgreSQL + Redis, 1 process; PostgreSQL + Redis, 2 processes): ${reason}.`)
    expect(skipped).not.toContain('### Ingest (parked statuses)')
  })

  it('puts the PostgreSQL variants beside SQLite with a backend column, and their ratios to the same baselines', () => {
    const sendRep = (perSec: number) => ({ messages: 100, api: load(perSec, 40), e2eMs: 1000, perSec, sent: 100, failed: 0, timedOut: false, e2eLatency: { p50: 30, p90: 50, p99: 80, max: 90 } })
    const measuredRun = renderReport(
      {
        ...withIngest,
        backends: {
          database: 'postgres://postgres@127.0.0.1:5432/test',
          redis: 'redis://127.0.0.1:6379',
          postgresVersion: '15.8',
          reps: 5,
          runs: [
            {
              spec: { kind: 'postgres', processes: 2 },
              label: 'PostgreSQL + Redis, 2 processes',
              ingest: { suite: suite('gateway pg2', [5000, 4000, 6000, 5000, 5000], [30, 30, 30, 30, 30], 2500), rssIdle: { gateway: 100 * 2 ** 20, 'gateway-2': 101 * 2 ** 20 }, rssPeak: { gateway: 150 * 2 ** 20, 'gateway-2': 160 * 2 ** 20 } },
              flow: { rssPeak: {}, send: { accounts: 8, perAccountLimit: 1000, reps: [sendRep(900), sendRep(1000), sendRep(1100)], baseline: [], cpu: {}, commits: { commitsPerSec: 10, perCommit: 1 } } },
              failed: [],
            },
          ],
          sendBaseline: { baseline: [load(4000, 20), load(4000, 20), load(4000, 20)], cpu: { seconds: 1, cores: {}, otherCores: 0, machineBusyCores: 0 }, rssPeak: {} },
        },
      },
      undefined,
    )
    // 5,000 over the SQLite run's bare route 25,000 → 20%
    expect(measuredRun).toContain('| PostgreSQL + Redis, 2 processes | 5,000 (4,000–6,000) | 20% | 2,500 | 7.50 (7.50–7.50) | 30.00 (30.00–30.00) ✗ | 0 |')
    expect(measuredRun).toContain('| SQLite, 1 process | 10,000 (8,000–12,000) | 40% | 10,000 |')
    expect(measuredRun).toContain('| bare route (baseline) | 25,000 (20,000–30,000) | — | — |')
    expect(measuredRun).toContain('| ingest, max sustained — PostgreSQL + Redis, 2 processes | 2,500 webhooks/s (closed loop 20% of the bare route) | ≥ 10,000/s, ≥ 40% | **no** |')
    // 1,000 msg/s over the standalone undici baseline 4,000 → 25%
    expect(measuredRun).toContain('| PostgreSQL + Redis, 2 processes | 1,000 (900–1,100) | 25% |')
    expect(measuredRun).toContain('| send, end to end — PostgreSQL + Redis, 2 processes | 1,000 msg/s | ≥ 5,000/s | **no** |')
    // RSS of each of the two processes
    expect(measuredRun).toContain('| PostgreSQL + Redis, 2 processes | 100 MB / 101 MB | 150 MB / 160 MB |')
    expect(measuredRun).toContain('PostgreSQL 15.8 (postgres://postgres@127.0.0.1:5432/test)')
  })

  it('carries hand-written analysis over from the previous file', () => {
    const previous = `${text.replace('_No analysis written yet for these figures._', 'SQLite fsync dominates.')}`
    const kept = extractAnalysis(previous)
    expect(kept).toBe('SQLite fsync dominates.')
    const again = renderReport(withIngest, kept)
    expect(again).toContain(`${ANALYSIS_START}\nSQLite fsync dominates.\n${ANALYSIS_END}`)
    expect(extractAnalysis('no markers here')).toBeUndefined()
  })

  it('lists errors of failed scenarios', () => {
    const failed = renderReport({ ...base, errors: ['ingest: boom'] }, undefined)
    expect(failed).toContain('## Errors during the run')
    expect(failed).toContain('ingest: boom')
  })
})
