import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import SQLite from 'better-sqlite3'
import { CompiledQuery, Kysely, Migrator, SqliteDialect, sql } from 'kysely'
import { migrationProvider, type Dialect } from './migrations.js'
import type { Database } from './schema.js'
import { openPostgresStore, type PostgresStoreOptions } from './postgres.js'
import { directExecutor, withStatementCache } from './sqlite-statement-cache.js'
import { registerDirectExecutor, type DirectExecutor } from './prepared.js'
import { StoreUnavailableError } from './errors.js'
import { createWalSync, walFsync, type WalSync } from './wal-sync.js'

/**
 * The store: one Kysely schema for SQLite (embedded default) and PostgreSQL. Writes go through
 * `write()`, which on SQLite groups every transaction requested in the same tick into one commit
 * (each in its own savepoint, so one failing caller does not undo the others): an acknowledgement
 * is durable (the WAL is fsynced after each group commit, off the event loop: wal-sync.ts) and a
 * burst pays for one fsync, not one per request.
 *
 * @example
 * const store = await openStore({ dataDir: './data' })
 * await store.write((tx) => tx.insertInto('tenants').values(row).execute())
 */
export type Tx = Kysely<Database>

export interface Store {
  dialect: Dialect
  /** Reads that need not see an unfinished write (SQLite: a second connection; WAL lets it run alongside). */
  read: Kysely<Database>
  /**
   * Runs `fn` as one transaction. On PostgreSQL it may run `fn` again after a serialization
   * conflict, so `fn` must be re-runnable (reset what it collects at its start).
   */
  write<T>(fn: (tx: Tx) => Promise<T>, options?: WriteOptions): Promise<T>
  /** Number of commits and of transactions they carried, for metrics and benchmarks; SQLite: fsyncs of its WAL. */
  stats(): { commits: number; transactions: number; syncs?: number }
  /**
   * The highest event `seq` a cursor reader may pass: no event with a lower seq can commit later.
   * Readers of the log by seq add `.where('seq', '<=', await store.eventHorizon())`. SQLite (one
   * writer): unbounded. PostgreSQL: see store/event-order.ts.
   */
  eventHorizon(): Promise<number>
  ping(): Promise<boolean>
  close(): Promise<void>
}

export interface WriteOptions {
  /**
   * PostgreSQL isolation of this write (default `read committed`, with the locks of store/locks.ts
   * where a decision needs them). SQLite ignores it (one writer).
   */
  isolation?: 'serializable' | 'read committed'
}

export interface OpenStoreOptions {
  /** Directory of `wagate.db`; `:memory:` for a throwaway database (tests). */
  dataDir: string
  /** Longest group of transactions committed together. */
  maxBatch?: number
  /** A postgres:// URL: the PostgreSQL store instead of SQLite (`dataDir` is then unused). */
  databaseUrl?: string
  /** PostgreSQL tuning and the handler of dropped-connection errors. */
  postgres?: Omit<PostgresStoreOptions, 'url'>
}

export async function openStore(options: OpenStoreOptions): Promise<Store> {
  if (options.databaseUrl) return openPostgresStore({ ...options.postgres, url: options.databaseUrl })
  const inMemory = options.dataDir === ':memory:'
  let file = ':memory:'
  if (!inMemory) {
    mkdirSync(options.dataDir, { recursive: true })
    file = join(options.dataDir, 'wagate.db')
  }
  const writerDb = new SQLite(file)
  writerDb.pragma('journal_mode = WAL')
  // NORMAL: commits are not synced by SQLite; the committer fsyncs the WAL itself, on the thread
  // pool, before it acknowledges (wal-sync.ts). In memory there is nothing to sync.
  writerDb.pragma(inMemory ? 'synchronous = FULL' : 'synchronous = NORMAL')
  writerDb.pragma('foreign_keys = ON')
  writerDb.pragma('busy_timeout = 5000')
  const writerCache = withStatementCache(writerDb)
  const writer = new Kysely<Database>({ dialect: new SqliteDialect({ database: writerCache }) })
  const writerDirect = directExecutor(writerCache)
  registerDirectExecutor(writer, writerDirect)

  const migrator = new Migrator({ db: writer, provider: migrationProvider('sqlite') })
  const { error } = await migrator.migrateToLatest()
  if (error) throw error instanceof Error ? error : new Error(String(error))

  let readerDb: SQLite.Database | undefined
  let reader = writer
  if (!inMemory) {
    readerDb = new SQLite(file, { readonly: true })
    readerDb.pragma('busy_timeout = 5000')
    const readerCache = withStatementCache(readerDb)
    reader = new Kysely<Database>({ dialect: new SqliteDialect({ database: readerCache }) })
    registerDirectExecutor(reader, directExecutor(readerCache))
  }

  const wal = inMemory ? undefined : walFsync(file)
  const committer = createGroupCommitter(writer, options.maxBatch ?? 512, wal ? createWalSync(wal.fsync, wal.close) : undefined, writerDirect)
  return {
    dialect: 'sqlite',
    read: reader,
    write: committer.write,
    stats: committer.stats,
    eventHorizon: async () => Number.MAX_SAFE_INTEGER,
    async ping() {
      await sql`select 1`.execute(reader)
      return true
    },
    async close() {
      await committer.drain()
      await committer.closeSync()
      if (reader !== writer) await reader.destroy()
      await writer.destroy()
    },
  }
}

interface Job {
  fn: (tx: Tx) => Promise<unknown>
  resolve: (value: unknown) => void
  reject: (error: unknown) => void
}

/** Longest stretch of synchronous SQL before the committer lets the event loop run. */
const YIELD_EVERY_MS = 4

/** The committer's own statements, compiled once: two of them run around every transaction. */
const TX = {
  begin: CompiledQuery.raw('begin immediate'),
  savepoint: CompiledQuery.raw('savepoint g'),
  release: CompiledQuery.raw('release g'),
  rollbackTo: CompiledQuery.raw('rollback to g'),
  commit: CompiledQuery.raw('commit'),
  rollback: CompiledQuery.raw('rollback'),
}

/**
 * @param durable after each commit, makes it durable; the batch's writes resolve only then, while
 *   the next batch already runs (its commit waits for the next sync).
 * @param direct runs prepared queries on `db`'s connection without Kysely's executor (store/prepared.ts).
 */
export function createGroupCommitter(db: Kysely<Database>, maxBatch: number, durable?: WalSync, direct?: DirectExecutor) {
  let queue: Job[] = []
  let running: Promise<void> | undefined
  const syncing = new Set<Promise<void>>()
  let commits = 0
  let transactions = 0

  const runBatch = async (batch: Job[]) => {
    const outcomes: Array<{ ok: true; value: unknown } | { ok: false; error: unknown }> = []
    try {
      await db.connection().execute(async (conn) => {
        if (direct) registerDirectExecutor(conn, direct)
        await conn.executeQuery(TX.begin)
        try {
          let sliceStart = performance.now()
          for (const job of batch) {
            // better-sqlite3 is synchronous: a long batch would hold the event loop, delaying socket
            // writes and timers (paced sends would then leave in a bunch). Let I/O run every few ms;
            // other writers still wait in the queue, so the transaction stays ours alone.
            if (performance.now() - sliceStart > YIELD_EVERY_MS) {
              await new Promise<void>((resolve) => setImmediate(resolve))
              sliceStart = performance.now()
            }
            await conn.executeQuery(TX.savepoint)
            try {
              const value = await job.fn(conn)
              await conn.executeQuery(TX.release)
              outcomes.push({ ok: true, value })
            } catch (error) {
              await conn.executeQuery(TX.rollbackTo)
              await conn.executeQuery(TX.release)
              outcomes.push({ ok: false, error })
            }
          }
          await conn.executeQuery(TX.commit)
        } catch (error) {
          await conn.executeQuery(TX.rollback).catch(() => undefined)
          throw error
        }
      })
    } catch (error) {
      for (const job of batch) job.reject(error)
      return
    }
    commits++
    transactions += batch.length
    const settle = () =>
      batch.forEach((job, i) => {
        const outcome = outcomes[i]
        if (outcome?.ok) job.resolve(outcome.value)
        else job.reject(outcome ? outcome.error : new Error('transaction outcome missing'))
      })
    if (!durable) return settle()
    // Not awaited: the next batch runs while the disk syncs this one.
    const done: Promise<void> = durable.sync().then(settle, (error: unknown) => {
      const failure = new StoreUnavailableError('the database file could not be synced to disk', { cause: error })
      for (const job of batch) job.reject(failure)
    })
    syncing.add(done)
    void done.finally(() => syncing.delete(done))
  }

  const loop = async () => {
    // Yield once so every write requested in this tick joins the batch.
    await new Promise<void>((resolve) => setImmediate(resolve))
    while (queue.length > 0) {
      const batch = queue.slice(0, maxBatch)
      queue = queue.slice(batch.length)
      await runBatch(batch)
    }
    running = undefined
  }

  return {
    write<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        queue.push({ fn, resolve: resolve as (v: unknown) => void, reject })
        running ??= loop()
      })
    },
    stats: () => ({ commits, transactions, ...(durable ? { syncs: durable.count() } : {}) }),
    /** Every queued write committed and acknowledged. */
    async drain() {
      while (running || syncing.size > 0) {
        if (running) await running
        await Promise.all(syncing)
      }
    },
    async closeSync() {
      await durable?.close()
    },
  }
}
