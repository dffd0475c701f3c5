import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import SQLite from 'better-sqlite3'
import { Kysely, SqliteDialect, sql, type Generated } from 'kysely'

/**
 * Evidence for RESULTS.md, not part of `npm run bench`: what one SQLite commit costs on this disk
 * (WAL, synchronous=FULL, as the gateway opens it), and what Kysely's SQLite driver pays for
 * preparing every statement again on each execution, against the same driver over a database
 * whose `prepare` keeps statements by SQL text. The workload is the parked-status webhook's
 * transaction, grouped like the gateway's group commit (savepoint per transaction, one commit per
 * batch).
 *
 * @example
 * npx tsx bench/experiments/sqlite-costs.ts
 */
interface Db {
  parked_statuses: { id: Generated<number>; account_id: string; provider_message_id: string; provider_status: string; payload: string; received_at: number }
}

function open(file: string, cache: boolean) {
  const raw = new SQLite(file)
  raw.pragma('journal_mode = WAL')
  raw.pragma('synchronous = FULL')
  raw.exec(`create table if not exists parked_statuses (id integer primary key autoincrement, account_id text not null, provider_message_id text not null,
    provider_status text not null, payload text not null, received_at integer not null, unique (account_id, provider_message_id, provider_status))`)
  const statements = new Map<string, SQLite.Statement>()
  const database = cache
    ? {
        close: () => raw.close(),
        prepare: (text: string) => {
          let st = statements.get(text)
          if (!st) {
            st = raw.prepare(text)
            statements.set(text, st)
          }
          return st
        },
      }
    : raw
  return { raw, db: new Kysely<Db>({ dialect: new SqliteDialect({ database }) }) }
}

async function groupCommitRun(db: Kysely<Db>, transactions: number, batch: number): Promise<number> {
  const payload = JSON.stringify({ providerMessageId: 'x', status: 'delivered', providerStatus: 'delivered', timestamp: Date.now(), recipient: { waId: '14155550123' } })
  const start = performance.now()
  let n = 0
  while (n < transactions) {
    await db.connection().execute(async (conn) => {
      await sql`begin immediate`.execute(conn)
      for (let i = 0; i < batch && n < transactions; i++, n++) {
        await sql`savepoint g`.execute(conn)
        await conn
          .insertInto('parked_statuses')
          .values({ account_id: 'acc_1', provider_message_id: `wamid.${n}.${Math.random()}`, provider_status: 'delivered', payload, received_at: Date.now() })
          .onConflict((oc) => oc.columns(['account_id', 'provider_message_id', 'provider_status']).doNothing())
          .execute()
        await sql`release g`.execute(conn)
      }
      await sql`commit`.execute(conn)
    })
  }
  return (transactions * 1000) / (performance.now() - start)
}

const dir = mkdtempSync(join(tmpdir(), 'sqlite-costs-'))
try {
  // 1. the price of one durable commit
  const { raw } = open(join(dir, 'commit.db'), false)
  const ins = raw.prepare(`insert into parked_statuses (account_id, provider_message_id, provider_status, payload, received_at) values ('a', ?, 's', '{}', 0)`)
  const commits = 300
  let t = performance.now()
  for (let i = 0; i < commits; i++) ins.run(`c${i}`)
  const commitMs = (performance.now() - t) / commits
  raw.close()

  // 2. the same group-committed workload through Kysely, without and with a statement cache
  const rows: string[] = []
  for (const batch of [1, 50, 200]) {
    for (const cache of [false, true]) {
      const { db } = open(join(dir, `g-${batch}-${cache}.db`), cache)
      await groupCommitRun(db, 500, batch) // warm-up
      const rate = await groupCommitRun(db, batch === 1 ? 1_000 : 20_000, batch)
      rows.push(`| ${batch} | ${cache ? 'cached statements' : 'kysely default (prepare each time)'} | ${Math.round(rate).toLocaleString('en-US')} |`)
      await db.destroy()
    }
  }
  t = performance.now()
  console.log(`one autocommit insert (WAL, synchronous=FULL): ${commitMs.toFixed(2)} ms → at most ${Math.round(1000 / commitMs)} commits/s on this disk`)
  console.log('')
  console.log('| transactions per commit | driver | transactions/s |')
  console.log('|---:|---|---:|')
  for (const r of rows) console.log(r)
} finally {
  rmSync(dir, { recursive: true, force: true })
}
