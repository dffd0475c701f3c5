import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import SQLite from 'better-sqlite3'
import { Kysely, SqliteDialect, sql } from 'kysely'
import { afterEach, describe, expect, it } from 'vitest'
import { createGroupCommitter, openStore, type Store } from './db.js'
import type { Database } from './schema.js'
import { createWalSync } from './wal-sync.js'

/** An fsync the test finishes by hand, recording when each one started. */
function manualFsync() {
  const started: Array<{ finish: () => void; fail: (e: Error) => void }> = []
  const fsync = () =>
    new Promise<void>((resolve, reject) => {
      started.push({ finish: resolve, fail: reject })
    })
  return { fsync, started }
}
const tick = () => new Promise<void>((resolve) => setImmediate(resolve))

describe('createWalSync', () => {
  it('runs one fsync at a time; calls made meanwhile share the next one, which starts after', async () => {
    const f = manualFsync()
    const wal = createWalSync(f.fsync)
    const log: string[] = []
    const first = wal.sync().then(() => log.push('first'))
    const second = wal.sync().then(() => log.push('second'))
    const third = wal.sync().then(() => log.push('third'))
    await tick()
    expect(f.started).toHaveLength(1) // the second and third wait: the running fsync may predate their commits
    f.started[0]?.finish()
    await first
    await tick()
    expect(log).toEqual(['first'])
    expect(f.started).toHaveLength(2)
    f.started[1]?.finish()
    await Promise.all([second, third])
    expect(log).toEqual(['first', 'second', 'third'])
    expect(wal.count()).toBe(2)
  })

  it('a failed fsync fails its callers and the next call runs a fresh one', async () => {
    const f = manualFsync()
    const wal = createWalSync(f.fsync)
    const failing = wal.sync()
    const waiting = wal.sync()
    f.started[0]?.fail(new Error('EIO'))
    await expect(failing).rejects.toThrow('EIO')
    await tick()
    f.started[1]?.finish()
    await expect(waiting).resolves.toBeUndefined()
  })
})

describe('the group committer with a WAL sync', () => {
  it('holds each write until a sync that started after its commit, while the next batch commits', async () => {
    const f = manualFsync()
    const raw = new SQLite(':memory:')
    raw.exec('create table t (id text)')
    const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: raw }) })
    const committer = createGroupCommitter(db, 512, createWalSync(f.fsync))
    const acked: string[] = []
    const insert = (id: string) => committer.write((tx) => sql`insert into t values (${id})`.execute(tx)).then(() => acked.push(id))
    const a = insert('a')
    while (f.started.length === 0) await tick()
    const b = insert('b')
    for (let i = 0; i < 5; i++) await tick()
    // both committed (visible), neither acknowledged: a waits for its sync, b for the one after
    expect((raw.prepare('select id from t order by id').all() as Array<{ id: string }>).map((r) => r.id)).toEqual(['a', 'b'])
    expect(acked).toEqual([])
    expect(f.started).toHaveLength(1)
    f.started[0]?.finish()
    await a
    expect(acked).toEqual(['a'])
    while (f.started.length < 2) await tick()
    f.started[1]?.finish()
    await b
    expect(acked).toEqual(['a', 'b'])
    await db.destroy()
  })

  it('fails the writes of a batch whose sync failed as store-unavailable', async () => {
    const raw = new SQLite(':memory:')
    raw.exec('create table t (id text)')
    const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: raw }) })
    const committer = createGroupCommitter(db, 512, createWalSync(async () => Promise.reject(new Error('EIO'))))
    await expect(committer.write((tx) => sql`insert into t values ('x')`.execute(tx))).rejects.toMatchObject({ name: 'StoreUnavailableError' })
    await db.destroy()
  })
})

describe('the SQLite store acknowledges a write only after the WAL is synced', () => {
  const dirs: string[] = []
  const stores: Store[] = []
  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close().catch(() => undefined)
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
  })

  it('syncs after commits (fewer syncs than writes) and every write resolves', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wagate-wal-'))
    dirs.push(dir)
    const store = await openStore({ dataDir: dir })
    stores.push(store)
    const ids = Array.from({ length: 300 }, (_, i) => `t${i}`)
    await Promise.all(ids.map((id) => store.write((tx) => tx.insertInto('tenants').values({ id, name: id, default_country: null, created_at: 1 }).execute())))
    const { commits, syncs } = store.stats()
    expect(syncs).toBeGreaterThan(0)
    expect(syncs).toBeLessThanOrEqual(commits)
    expect((await store.read.selectFrom('tenants').select('id').execute()).length).toBe(300)
  })
})
