import type { LoadResult } from './lib/load.js'
import type { CpuUse } from './lib/monitor.js'
import type { ProfileSummary } from './lib/profile.js'
import { medianOf, type Spread } from './lib/stats.js'
import type { SuiteResult } from './scenarios/ingest-suite.js'

/**
 * Number formats and small table builders shared by the report's sections (report.ts, the SQLite
 * scenarios; report-backends.ts, PostgreSQL + Redis).
 *
 * @example
 * spread(medianOf([1, 2, 3])) // '2 (1–3)'
 */
export const int = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : 'n/a')
export const dec = (n: number, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : 'n/a')
export const mb = (bytes: number | undefined) => (bytes !== undefined && Number.isFinite(bytes) ? `${(bytes / 2 ** 20).toFixed(0)} MB` : 'n/a')
export const spread = (s: Spread, f: (n: number) => string = int) => (s.n === 0 ? 'n/a' : s.n === 1 ? f(s.median) : `${f(s.median)} (${f(s.min)}–${f(s.max)})`)
export const med = (rs: LoadResult[], pick: (r: LoadResult) => number) => medianOf(rs.map(pick))
export const pct = (n: number) => (Number.isFinite(n) ? `${n >= 0 ? '+' : ''}${n.toFixed(2)}%` : 'n/a')
export const verdict = (ok: boolean | undefined) => (ok === undefined ? '—' : ok ? 'yes' : '**no**')
export const cores = (c: CpuUse | undefined, name: string) => (c && Number.isFinite(c.cores[name] ?? Number.NaN) ? dec(c.cores[name] ?? Number.NaN, 2) : 'n/a')

export function rampTable(s: SuiteResult): string[] {
  if (s.ramp.length === 0) return []
  return [
    '',
    `Ramp, ${s.label} (open loop, one step each; sustained = every request answered 2xx and p99 ≤ the bound):`,
    '',
    '| offered /s | completed /s | p50 ms | p99 ms | verdict |',
    '|---:|---:|---:|---:|---|',
    ...[...s.ramp].sort((a, b) => a.rate - b.rate).map((st) => `| ${int(st.rate)} | ${int(st.result.throughput)} | ${dec(st.result.latency.p50, 2)} | ${dec(st.result.latency.p99, 2)} | ${st.ok ? 'sustained' : st.reason ?? 'not sustained'} |`),
  ]
}

export function profileBlock(title: string, p: ProfileSummary | undefined): string[] {
  if (!p) return []
  return [
    '',
    `#### CPU profile: ${title}`,
    '',
    `${dec(p.busySeconds, 1)} s busy of ${dec(p.wallSeconds, 1)} s (the whole life of that gateway process, all its phases). Self time by where it was spent (native frames charged to their JavaScript caller):`,
    '',
    '| where | share of busy time |',
    '|---|---:|',
    ...p.categories.map((c) => `| ${c.name} | ${dec(c.pct, 1)}% |`),
    '',
    'Top functions by self time:',
    '',
    '| function — location | share |',
    '|---|---:|',
    ...p.functions.map((f) => `| ${f.name.replace(/\|/g, '\\|')} | ${dec(f.pct, 1)}% |`),
  ]
}
