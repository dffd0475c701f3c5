import pg from 'pg'

/**
 * Not part of `npm run bench`: counts the statements the gateway sends to PostgreSQL per message on
 * the send path (profile-send.ts in one process), by SQL text. Needs WAGATE_TEST_BACKEND=postgres
 * and WAGATE_TEST_DATABASE_URL.
 *
 * @example
 * WAGATE_TEST_BACKEND=postgres npx tsx bench/experiments/pg-statements.ts --messages=1000
 */
const counts = new Map<string, number>()
const original = pg.Client.prototype.query as (...args: unknown[]) => unknown
pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
  const first = args[0]
  const text = typeof first === 'string' ? first : ((first as { text?: string } | undefined)?.text ?? '?')
  counts.set(text, (counts.get(text) ?? 0) + 1)
  return original.apply(this, args)
} as typeof pg.Client.prototype.query
process.on('exit', () => {
  const total = [...counts.values()].reduce((a, b) => a + b, 0)
  const messages = Number(process.argv.find((a) => a.startsWith('--messages='))?.split('=')[1] ?? 2000)
  console.log(`${total} statements, ${(total / messages).toFixed(1)} per message`)
  for (const [sql, n] of [...counts.entries()].sort((a, b) => b[1] - a[1]).slice(0, 30)) console.log(`${String(n).padStart(7)} ${(n / messages).toFixed(2).padStart(6)}/msg  ${sql.replace(/\s+/g, ' ').slice(0, 160)}`)
})
await import('./profile-send.js')
