import SQLite from 'better-sqlite3'

/**
 * Not part of `npm run bench`: times every better-sqlite3 statement execution by SQL text, then runs
 * the in-process send path (profile-send.ts) and prints the statements that took the most time.
 *
 * @example
 * npx tsx bench/experiments/sql-timing.ts --messages=3000
 */
const probe = new SQLite(':memory:')
const proto = Object.getPrototypeOf(probe.prepare('select 1')) as Record<string, (...args: unknown[]) => unknown>
probe.close()
const totals = new Map<string, { calls: number; ns: bigint; rows: number }>()
for (const method of ['run', 'all', 'get'] as const) {
  const original = proto[method] as (...args: unknown[]) => unknown
  proto[method] = function (this: { source: string }, ...args: unknown[]) {
    const start = process.hrtime.bigint()
    const result = original.apply(this, args)
    const spent = process.hrtime.bigint() - start
    const entry = totals.get(this.source) ?? { calls: 0, ns: 0n, rows: 0 }
    entry.calls++
    entry.ns += spent
    if (Array.isArray(result)) entry.rows += result.length
    totals.set(this.source, entry)
    return result
  }
}
process.on('exit', () => {
  const rows = [...totals.entries()].sort((a, b) => Number(b[1].ns - a[1].ns))
  const all = rows.reduce((s, [, e]) => s + e.ns, 0n)
  console.log(`SQL total ${(Number(all) / 1e6).toFixed(0)} ms over ${rows.reduce((s, [, e]) => s + e.calls, 0)} executions`)
  for (const [sql, e] of rows.slice(0, 25)) {
    console.log(`${(Number(e.ns) / 1e6).toFixed(0).padStart(6)} ms ${String(e.calls).padStart(7)} calls ${(Number(e.ns) / e.calls / 1e3).toFixed(1).padStart(7)} µs  rows ${e.rows}  ${sql.slice(0, 220)}`)
  }
})
await import('./profile-send.js')
