import { describe, expect, it } from 'vitest'
import { ProcessMonitor } from '../lib/monitor.js'
import { parseOptions } from '../lib/options.js'
import { runBackends } from './backends.js'
import type { RunContext } from './context.js'

describe('runBackends', () => {
  it('records every PostgreSQL variant as skipped, with the reason, when the database does not answer', async () => {
    const opts = parseOptions(['--quick', '--backend=postgres'], { WAGATE_BENCH_DATABASE_URL: 'postgres://postgres@127.0.0.1:1/test' })
    const lines: string[] = []
    const failures: string[] = []
    const ctx: RunContext = { opts, monitor: new ProcessMonitor({}), log: (l) => lines.push(l), tmpRoot: '/nonexistent', profileDir: () => '/nonexistent' }
    const result = await runBackends(ctx, opts.backends, { bare: true, sendBaseline: true }, (what) => failures.push(what))
    expect(result.runs.map((r) => r.label)).toEqual(['PostgreSQL + Redis, 1 process', 'PostgreSQL + Redis, 2 processes'])
    for (const r of result.runs) expect(r.skipped).toMatch(/^PostgreSQL at postgres:\/\/postgres@127\.0\.0\.1:1\/test is not reachable/)
    expect(result.bare).toBeUndefined()
    expect(failures).toEqual([])
    expect(lines.some((l) => l.startsWith('PostgreSQL + Redis: skipped, PostgreSQL at'))).toBe(true)
  })
})
