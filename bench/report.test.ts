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
  opts: parseOptions(['--note=preliminary: shared machine']),
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

  it('says PostgreSQL + Redis were not measured and why', () => {
    expect(text).toMatch(/## PostgreSQL \+ Redis\n\nNot measured\. The gateway in this commit supports only the embedded SQLite store/)
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
