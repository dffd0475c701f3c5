import SQLite from 'better-sqlite3'
import { Kysely, SqliteDialect, sql, type Generated } from 'kysely'
import { afterEach, describe, expect, it } from 'vitest'
import { directExecutor, withStatementCache, type CachedDatabase } from './sqlite-statement-cache.js'

interface Db {
  t: { id: Generated<number>; name: string }
}

const open: Array<{ destroy(): Promise<void> }> = []
afterEach(async () => {
  for (const db of open.splice(0)) await db.destroy()
})

function setup(maxSize?: number) {
  const raw = new SQLite(':memory:')
  raw.exec('create table t (id integer primary key autoincrement, name text not null)')
  const cached = withStatementCache(raw, maxSize)
  const db = new Kysely<Db>({ dialect: new SqliteDialect({ database: cached }) })
  open.push(db)
  return { raw, cached, db }
}

describe('withStatementCache', () => {
  it('returns the same compiled statement for the same SQL text', () => {
    const { cached } = setup()
    const a = cached.prepare('select 1 as x')
    const b = cached.prepare('select 1 as x')
    const c = cached.prepare('select 2 as x')
    expect(b).toBe(a)
    expect(c).not.toBe(a)
    expect(cached.statementCacheStats()).toEqual({ size: 2, hits: 1, misses: 2 })
  })

  it('evicts the least recently used text beyond its bound', () => {
    const { cached } = setup(2)
    const a = cached.prepare('select 1')
    const b = cached.prepare('select 2')
    expect(cached.prepare('select 1')).toBe(a) // a is now the most recent
    cached.prepare('select 3') // evicts b, not a
    expect(cached.statementCacheStats().size).toBe(2)
    expect(cached.prepare('select 1')).toBe(a)
    expect(cached.prepare('select 2')).not.toBe(b)
  })

  it('serves Kysely reads and writes with new parameters on every reuse', async () => {
    const { db, cached } = setup()
    for (const name of ['ann', 'bob', 'cy']) {
      const res = await db.insertInto('t').values({ name }).executeTakeFirst()
      expect(Number(res.numInsertedOrUpdatedRows)).toBe(1)
    }
    for (const name of ['ann', 'bob', 'cy', 'nobody']) {
      const rows = await db.selectFrom('t').select('name').where('name', '=', name).execute()
      expect(rows).toEqual(name === 'nobody' ? [] : [{ name }])
    }
    const updated = await db.updateTable('t').set({ name: 'dee' }).where('name', '=', 'cy').executeTakeFirst()
    expect(Number(updated.numUpdatedRows)).toBe(1)
    expect(await db.selectFrom('t').select('id').where('name', '=', 'cy').execute()).toEqual([])
    // one text each for the insert, the select by name, the update and the select of ids: the rest were hits
    expect(cached.statementCacheStats()).toMatchObject({ size: 4, misses: 4, hits: 5 })
  })

  it('keeps the reader / writer kind of each statement, so returning and non-returning SQL both work again', async () => {
    const { db } = setup()
    for (let i = 0; i < 3; i++) {
      const back = await db.insertInto('t').values({ name: `r${i}` }).returning(['id', 'name']).executeTakeFirstOrThrow()
      expect(back.name).toBe(`r${i}`)
      const run = await sql`insert into t (name) values (${`w${i}`})`.execute(db)
      expect(run.rows).toEqual([])
      expect(Number(run.numAffectedRows)).toBe(1)
    }
    expect(Number((await db.selectFrom('t').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n)).toBe(6)
  })

  it('does not share a statement that an iterator is still reading', async () => {
    // Kysely's connection mutex already keeps a second query off the connection while a stream
    // runs; this is the defence below it, at the statement level.
    const { db, cached } = setup()
    await db.insertInto('t').values([{ name: 'a' }, { name: 'b' }, { name: 'c' }]).execute()
    const text = 'select name from t order by id'
    const iterating = cached.prepare(text)
    const rows = iterating.iterate([])
    expect(rows.next().value).toEqual({ name: 'a' })
    const other = cached.prepare(text)
    expect(other).not.toBe(iterating)
    expect(other.all([])).toEqual([{ name: 'a' }, { name: 'b' }, { name: 'c' }])
    expect([...rows]).toEqual([{ name: 'b' }, { name: 'c' }])
    expect(cached.prepare(text)).toBe(iterating) // free again: the cached one is back in use
    // and Kysely's own stream over a cached statement, stopped early, leaves it usable
    for await (const row of db.selectFrom('t').select('name').orderBy('id').stream()) {
      expect(row.name).toBe('a')
      break
    }
    expect((await db.selectFrom('t').select('name').orderBy('id').execute()).map((r) => r.name)).toEqual(['a', 'b', 'c'])
  })

  it('sees a schema change through a statement compiled before it', async () => {
    const { db, raw } = setup()
    await db.insertInto('t').values({ name: 'a' }).execute()
    const all = () => db.selectFrom('t').selectAll().execute() as Promise<Array<Record<string, unknown>>>
    expect(await all()).toEqual([{ id: 1, name: 'a' }])
    raw.exec("alter table t add column extra text not null default 'x'")
    expect(await all()).toEqual([{ id: 1, name: 'a', extra: 'x' }])
  })

  it('closes the database with the cache', () => {
    const raw = new SQLite(':memory:')
    const cached: CachedDatabase = withStatementCache(raw)
    cached.prepare('select 1')
    cached.close()
    expect(raw.open).toBe(false)
    expect(cached.statementCacheStats().size).toBe(0)
  })
})

describe('directExecutor', () => {
  it('gives what Kysely gives for the same compiled query: rows, or affected rows and the insert id', async () => {
    const { cached, db } = setup()
    const run = directExecutor(cached)
    const insert = db.insertInto('t').values({ name: 'ann' }).compile()
    const viaKysely = await db.executeQuery(insert)
    const direct = run(insert.sql, ['bob'])
    expect(direct).toEqual({ numAffectedRows: 1n, insertId: 2n, rows: [] })
    expect(viaKysely).toMatchObject({ numAffectedRows: 1n, insertId: 1n, rows: [] })
    const select = db.selectFrom('t').select(['id', 'name']).where('name', '=', 'bob').compile()
    expect(run(select.sql, ['bob'])).toEqual({ rows: [{ id: 2, name: 'bob' }] })
    expect(run(select.sql, ['bob'])).toEqual(await db.executeQuery(db.selectFrom('t').select(['id', 'name']).where('name', '=', 'bob').compile()))
  })
})
