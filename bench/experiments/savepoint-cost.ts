import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import SQLite from 'better-sqlite3'
import { CompiledQuery, Kysely, SqliteDialect, type Generated } from 'kysely'
import { withStatementCache } from '../../src/store/sqlite-statement-cache.js'

/**
 * Evidence for RESULTS.md, not part of `npm run bench`: the CPU a group-committed transaction costs
 * with and without the committer's per-transaction `savepoint g` / `release g` (statements cached,
 * the parked-status webhook's lookup + insert, 100 transactions per commit). CPU time, not wall
 * time, so a loaded machine and the fsync per commit blur it less.
 *
 * @example
 * npx tsx bench/experiments/savepoint-cost.ts
 */
interface Db {
  parked_statuses: { id: Generated<number>; account_id: string; provider_message_id: string; provider_status: string; payload: string; received_at: number }
}
const raw = (s: string) => CompiledQuery.raw(s)
const dir = mkdtempSync(join(tmpdir(), 'sp-'))
const file = join(dir, 'x.db')
const r = new SQLite(file)
r.pragma('journal_mode = WAL')
r.pragma('synchronous = FULL')
r.exec(`create table parked_statuses (id integer primary key autoincrement, account_id text not null, provider_message_id text not null,
    provider_status text not null, payload text not null, received_at integer not null, unique (account_id, provider_message_id, provider_status))`)
const db = new Kysely<Db>({ dialect: new SqliteDialect({ database: withStatementCache(r) }) })
const payload = JSON.stringify({ providerMessageId: 'x', status: 'delivered', providerStatus: 'delivered', timestamp: Date.now(), recipient: { waId: '14155550123' }, raw: { id: 'wamid.HBgLMTQxNTU1NTAxMjMVAgARGBI5QUE5QUE5QUE5QUE5QUE5AA==', status: 'delivered', timestamp: '1700000000', recipient_id: '14155550123' } })
let n = 0
async function run(tx: number, batch: number, savepoints: boolean) {
  const start = process.cpuUsage()
  let done = 0
  while (done < tx) {
    await db.connection().execute(async (conn) => {
      await conn.executeQuery(raw('begin immediate'))
      for (let i = 0; i < batch && done < tx; i++, done++) {
        if (savepoints) await conn.executeQuery(raw('savepoint g'))
        await conn.selectFrom('parked_statuses').select('id').where('account_id', '=', 'acc_1').where('provider_message_id', '=', `wamid.${n}`).executeTakeFirst()
        await conn.insertInto('parked_statuses').values({ account_id: 'acc_1', provider_message_id: `wamid.${n++}.${Math.random()}`, provider_status: 'delivered', payload, received_at: Date.now() })
          .onConflict((oc) => oc.columns(['account_id', 'provider_message_id', 'provider_status']).doNothing()).execute()
        if (savepoints) await conn.executeQuery(raw('release g'))
      }
      await conn.executeQuery(raw('commit'))
    })
  }
  const used = process.cpuUsage(start)
  return (used.user + used.system) / tx
}
try {
  await run(2000, 100, true)
  for (let rep = 0; rep < 5; rep++) {
    for (const sp of [true, false]) console.log(`batch 100, savepoints ${sp}: ${(await run(10_000, 100, sp)).toFixed(1)} µs CPU/tx`)
  }
} finally {
  await db.destroy()
  rmSync(dir, { recursive: true, force: true })
}
