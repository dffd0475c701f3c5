import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createPgPool } from '../../src/store/pg-pool.js'
import { StoreUnavailableError } from '../../src/store/errors.js'
import { pgSkipped, PG_URL } from './store-backends.js'

/**
 * The PostgreSQL pool prepares each parameterized statement once per connection (named), at most
 * 200 per connection, and drops a connection whose prepared plan a migration made stale.
 */
describe.skipIf(pgSkipped)('PostgreSQL pool: prepared statements', () => {
  const schema = `wagate_pgpool_${process.pid}_${Date.now() % 1_000_000}`
  let admin: pg.Client
  let made: ReturnType<typeof createPgPool>
  beforeAll(async () => {
    admin = new pg.Client({ connectionString: PG_URL })
    await admin.connect()
    await admin.query(`create schema ${schema}`)
    await admin.query(`create table ${schema}.t (id int primary key, v text)`)
    await admin.query(`insert into ${schema}.t values (1, 'one'), (2, 'two')`)
    made = createPgPool({ connectionString: PG_URL as string, schema, max: 2, connectTimeoutMs: 3_000, acquireTimeoutMs: 4_000, statementTimeoutMs: 3_000 })
  })
  afterAll(async () => {
    await made?.pool.end()
    await admin?.query(`drop schema if exists ${schema} cascade`)
    await admin?.end()
  })

  const prepared = async (client: { query: (sql: string, params: readonly unknown[]) => Promise<{ rows: unknown[] }> }) =>
    ((await client.query("select statement from pg_prepared_statements where name like 'wagate_%' and $1::int = 1", [1])).rows as Array<{ statement: string }>).map((r) => r.statement)

  it('prepares a statement with parameters once and reuses it; runs one without parameters unnamed', async () => {
    const client = await made.pool.connect()
    try {
      const a = await client.query<{ v: string }>('select v from t where id = $1', [1])
      const b = await client.query<{ v: string }>('select v from t where id = $1', [2])
      expect([a.rows[0]?.v, b.rows[0]?.v]).toEqual(['one', 'two'])
      await client.query('select count(*) from t', [])
      const names = await prepared(client)
      expect(names.filter((s) => s === 'select v from t where id = $1')).toHaveLength(1)
      expect(names.some((s) => s.startsWith('select count(*)'))).toBe(false)
    } finally {
      client.release()
    }
  })

  it('prepares at most 200 statements per connection and still runs the rest', async () => {
    const client = await made.pool.connect()
    try {
      for (let i = 0; i < 230; i++) {
        const r = await client.query<{ n: number }>(`select $1::int + ${i} as n`, [1])
        expect(r.rows[0]?.n).toBe(1 + i)
      }
      expect((await prepared(client)).length).toBe(200)
    } finally {
      client.release()
    }
  })

  it('a migration that changes a prepared statement’s result type fails that call as unavailable and replaces the connection', async () => {
    // A pool of its own: the test above filled a connection's 200 statements.
    const fresh = createPgPool({ connectionString: PG_URL as string, schema, max: 2, connectTimeoutMs: 3_000, acquireTimeoutMs: 4_000, statementTimeoutMs: 3_000 })
    const pids = new Set<number>()
    const client = await fresh.pool.connect()
    try {
      pids.add(((await client.query<{ pid: number }>('select pg_backend_pid() as pid', [])).rows[0] as { pid: number }).pid)
      await client.query('select * from t where id = $1', [1])
      await admin.query(`alter table ${schema}.t add column extra int`)
      await expect(client.query('select * from t where id = $1', [1])).rejects.toBeInstanceOf(StoreUnavailableError)
    } finally {
      client.release()
    }
    // The pool never hands that connection out again: both connections now answer the new shape.
    for (let i = 0; i < 4; i++) {
      const c = await fresh.pool.connect()
      try {
        pids.add(((await c.query<{ pid: number }>('select pg_backend_pid() as pid', [])).rows[0] as { pid: number }).pid)
        const row = (await c.query<Record<string, unknown>>('select * from t where id = $1', [1])).rows[0]
        expect(Object.keys(row ?? {}).sort()).toEqual(['extra', 'id', 'v'])
      } finally {
        c.release()
      }
    }
    expect(pids.size).toBeGreaterThan(1)
    await fresh.pool.end()
  })
})
