import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import SQLite from 'better-sqlite3'
import { sql } from 'kysely'
import { afterEach, describe, expect, it } from 'vitest'
import { openStore, type Store, type Tx } from './db.js'

const dirs: string[] = []
const stores: Store[] = []

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'wagate-db-'))
  dirs.push(dir)
  return dir
}

async function open(dataDir: string, maxBatch?: number): Promise<Store> {
  const store = await openStore({ dataDir, ...(maxBatch ? { maxBatch } : {}) })
  stores.push(store)
  return store
}

afterEach(async () => {
  for (const s of stores.splice(0)) await s.close().catch(() => undefined)
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

const insertTenant = (tx: Tx, id: string) => tx.insertInto('tenants').values({ id, name: `tenant ${id}`, default_country: null, created_at: 1 }).execute()
const tenantIds = async (store: Store) => (await store.read.selectFrom('tenants').select('id').orderBy('id').execute()).map((r) => r.id)

describe('openStore group commit', () => {
  it('resolves 200 concurrent writes each with its own result, in far fewer commits', async () => {
    const store = await open(tempDir())
    const before = store.stats()
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        store.write(async (tx) => {
          await insertTenant(tx, `t${String(i).padStart(3, '0')}`)
          return { i, square: i * i }
        }),
      ),
    )
    results.forEach((r, i) => expect(r).toEqual({ i, square: i * i }))
    const after = store.stats()
    expect(after.transactions - before.transactions).toBe(200)
    // every write was requested in the same tick: one batch (allow a little slack, never one per write)
    expect(after.commits - before.commits).toBeLessThanOrEqual(5)
    expect(await tenantIds(store)).toHaveLength(200)
  })

  it('never groups more than maxBatch transactions in one commit', async () => {
    const store = await open(':memory:', 10)
    await Promise.all(Array.from({ length: 50 }, (_, i) => store.write((tx) => insertTenant(tx, `m${i}`))))
    expect(store.stats()).toEqual({ commits: 5, transactions: 50 })
  })

  it('rolls back only the failing transaction of a batch (savepoint); the others commit', async () => {
    const store = await open(tempDir())
    const before = store.stats()
    const boom = new Error('caller failed after writing')
    const outcomes = await Promise.allSettled([
      store.write(async (tx) => {
        await insertTenant(tx, 'a')
        return 'a'
      }),
      store.write(async (tx) => {
        await insertTenant(tx, 'b')
        await insertTenant(tx, 'b2')
        throw boom
      }),
      store.write(async (tx) => {
        await insertTenant(tx, 'c')
        // a constraint violation after a successful insert: both statements must go
        await insertTenant(tx, 'c2')
        await insertTenant(tx, 'a')
        return 'c'
      }),
      store.write(async (tx) => {
        await insertTenant(tx, 'd')
        return 'd'
      }),
    ])
    expect(outcomes[0]).toEqual({ status: 'fulfilled', value: 'a' })
    expect(outcomes[1]).toEqual({ status: 'rejected', reason: boom })
    expect(outcomes[2]?.status).toBe('rejected')
    expect(outcomes[3]).toEqual({ status: 'fulfilled', value: 'd' })
    expect(await tenantIds(store)).toEqual(['a', 'd'])
    expect(store.stats().commits - before.commits).toBe(1)
  })

  it('rejects a synchronous throw like any other failure', async () => {
    const store = await open(':memory:')
    const bad = store.write(() => {
      throw new Error('sync')
    })
    const good = store.write((tx) => insertTenant(tx, 'ok'))
    await expect(bad).rejects.toThrow('sync')
    await expect(good).resolves.toBeDefined()
  })

  it('has committed a write by the time it resolves: another connection sees it at once', async () => {
    const dir = tempDir()
    const store = await open(dir)
    await store.write((tx) => insertTenant(tx, 'seen'))
    const other = new SQLite(join(dir, 'wagate.db'), { readonly: true })
    try {
      expect(other.prepare('select id from tenants').all()).toEqual([{ id: 'seen' }])
    } finally {
      other.close()
    }
    // and the store's own reader connection sees it too
    expect(await tenantIds(store)).toEqual(['seen'])
  })

  it('keeps data across close and reopen, and reruns no migration', async () => {
    const dir = tempDir()
    const first = await open(dir)
    await first.write((tx) => insertTenant(tx, 'durable'))
    const migrationsRun = await sql<{ name: string }>`select name from kysely_migration order by name`.execute(first.read)
    await first.close()

    const second = await open(dir)
    expect(await tenantIds(second)).toEqual(['durable'])
    const again = await sql<{ name: string }>`select name from kysely_migration order by name`.execute(second.read)
    expect(again.rows).toEqual(migrationsRun.rows)
    expect(again.rows.length).toBeGreaterThan(0)
    await second.write((tx) => insertTenant(tx, 'after-reopen'))
    await second.close()

    const third = await open(dir)
    expect(await tenantIds(third)).toEqual(['after-reopen', 'durable'])
  })

  it('finishes pending writes on close', async () => {
    const dir = tempDir()
    const store = await openStore({ dataDir: dir })
    const pending = store.write((tx) => insertTenant(tx, 'late'))
    await store.close()
    await expect(pending).resolves.toBeDefined()
    const reopened = await open(dir)
    expect(await tenantIds(reopened)).toEqual(['late'])
  })

  it('answers ping and runs in memory without a directory', async () => {
    const store = await open(':memory:')
    expect(await store.ping()).toBe(true)
    expect(store.dialect).toBe('sqlite')
    await store.write((tx) => insertTenant(tx, 'mem'))
    expect(await tenantIds(store)).toEqual(['mem'])
  })

  it('keeps serving writes after a batch with failures (the savepoint is released)', async () => {
    const store = await open(':memory:')
    await Promise.allSettled([store.write(() => Promise.reject(new Error('x'))), store.write((tx) => insertTenant(tx, 'one'))])
    for (let i = 0; i < 3; i++) await store.write((tx) => insertTenant(tx, `seq${i}`))
    expect(await tenantIds(store)).toEqual(['one', 'seq0', 'seq1', 'seq2'])
  })
})
