import { Kysely, Migrator, PostgresDialect, sql } from 'kysely'
import type { Store, Tx, WriteOptions } from './db.js'
import { errorCode, StoreUnavailableError } from './errors.js'
import { coalesce, flushEvents, readHorizon, trackEvents, type EventLockKey } from './event-order.js'
import { migrationProvider } from './migrations.js'
import { createPgPool } from './pg-pool.js'
import type { Database } from './schema.js'

/**
 * The PostgreSQL store (`WAGATE_DATABASE_URL`): the same Kysely schema, migrations and queries as
 * SQLite, for several gateway processes sharing one database.
 *
 * Each `write(fn)` is its own READ COMMITTED transaction. The engine was written for SQLite's
 * single writer (read a row, decide, write); on PostgreSQL those decisions are made safe by locks
 * taken where they are made (store/locks.ts): the message row for a status change, advisory locks
 * on URNs for contact resolution and on provider message ids for parked statuses, the key row for
 * idempotency, and `FOR UPDATE SKIP LOCKED` for queue leasing. Unique constraints catch the rest:
 * a unique violation (23505) or a deadlock (40P01) runs the whole callback again after a short
 * random wait, and it reads the row that won — so callbacks must be re-runnable (no side effects
 * outside `tx` except results they reset and return). SERIALIZABLE was measured first: with
 * inserts into small, hot indexes (new contacts, history, events) its predicate locks aborted most
 * concurrent writes (12 retries were not enough at 32 concurrent sends). A write may still ask for
 * `{ isolation: 'serializable' }`; its 40001 aborts are retried the same way.
 *
 * Events appended in a write are inserted at its end under a shared advisory lock, and
 * `eventHorizon()` says up to which `seq` readers may go without skipping a later commit (see
 * event-order.ts). Migrations run under an advisory lock per schema.
 *
 * The URL may carry, as query parameters read here and not passed to the driver: `schema`
 * (default `public`), `pool_max` (10), `connect_timeout_ms` (3000), `acquire_timeout_ms` (4000)
 * and `statement_timeout_ms` (3000). With those defaults a store call against an unreachable or
 * silent database fails within about 4 s as StoreUnavailableError (HTTP 503), never hangs.
 *
 * @example
 * const store = await openPostgresStore({ url: 'postgres://wagate@db.internal/wagate?schema=wagate' })
 * await store.write((tx) => tx.insertInto('tenants').values(row).execute())
 */
export interface PostgresStoreOptions {
  url: string
  /** Overrides the URL's `schema` parameter. */
  schema?: string
  /** Overrides the URL's `pool_max` parameter (the other fields below override theirs likewise). */
  poolSize?: number
  /** Longest time to open a connection. Default 3 s. */
  connectTimeoutMs?: number
  /** Longest wait for a connection, new or free (writes queue for the pool). Default 4 s. */
  acquireTimeoutMs?: number
  /** Longest single statement; the client gives up 1 s later even if the server never answers. Default 3 s. */
  statementTimeoutMs?: number
  /** Runs of one write before a conflict is given up as `StoreUnavailableError`. Default 12. */
  maxAttempts?: number
  /** Errors of idle or broken connections, which the pool drops and replaces. */
  onError?: (error: Error) => void
  /** A second handle on a database another handle of this process has just migrated. */
  skipMigrations?: boolean
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/
/** Advisory lock class ids ("wagm", "wage"): migration and event log, each paired with the schema's hash (`hashtext`). */
const MIGRATION_LOCK = 0x7761676d
export const EVENT_LOCK = 0x77616765

/** Query parameters of WAGATE_DATABASE_URL read by wagate (and removed before the driver sees the URL). */
const URL_SETTINGS = {
  pool_max: [2, 1_000],
  connect_timeout_ms: [100, 600_000],
  acquire_timeout_ms: [100, 600_000],
  statement_timeout_ms: [100, 3_600_000],
} as const

export interface ParsedDatabaseUrl {
  connectionString: string
  schema: string
  settings: Partial<Record<keyof typeof URL_SETTINGS, number>>
}

export function parseDatabaseUrl(url: string): ParsedDatabaseUrl {
  const parsed = new URL(url)
  const schema = parsed.searchParams.get('schema') ?? 'public'
  parsed.searchParams.delete('schema')
  const settings: ParsedDatabaseUrl['settings'] = {}
  for (const [name, [min, max]] of Object.entries(URL_SETTINGS) as Array<[keyof typeof URL_SETTINGS, readonly [number, number]]>) {
    const text = parsed.searchParams.get(name)
    parsed.searchParams.delete(name)
    if (text === null) continue
    const value = Number(text)
    if (!Number.isInteger(value) || value < min || value > max) throw new Error(`WAGATE_DATABASE_URL: ${name} must be a whole number from ${min} to ${max}`)
    settings[name] = value
  }
  return { connectionString: parsed.toString(), schema, settings }
}

export async function openPostgresStore(options: PostgresStoreOptions): Promise<Store> {
  const parsed = parseDatabaseUrl(options.url)
  const schema = options.schema ?? parsed.schema
  if (!SCHEMA_NAME.test(schema)) throw new Error(`database schema "${schema}": use lowercase letters, digits and _ (up to 63)`)
  const maxAttempts = options.maxAttempts ?? 12
  const poolSettings = {
    connectionString: parsed.connectionString,
    schema,
    max: Math.max(1, options.poolSize ?? parsed.settings.pool_max ?? 10),
    connectTimeoutMs: options.connectTimeoutMs ?? parsed.settings.connect_timeout_ms ?? 3_000,
    acquireTimeoutMs: options.acquireTimeoutMs ?? parsed.settings.acquire_timeout_ms ?? 4_000,
    statementTimeoutMs: options.statementTimeoutMs ?? parsed.settings.statement_timeout_ms ?? 3_000,
    onError: options.onError,
  }
  // Migrations get their own short-lived pool without a statement timeout (building an index on a
  // large table may take minutes); one connection holds the lock, the migrator uses the other.
  if (!options.skipMigrations) {
    const migrationDb = new Kysely<Database>({ dialect: new PostgresDialect({ pool: createPgPool({ ...poolSettings, max: 2, statementTimeoutMs: 0, acquireTimeoutMs: 600_000 }).pool }) })
    try {
      await migrate(migrationDb, schema)
    } finally {
      await migrationDb.destroy()
    }
  }
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: createPgPool(poolSettings).pool }) })

  let eventLock: EventLockKey
  try {
    const row = await sql<{ h: number }>`select hashtext(${schema}) as h`.execute(db)
    eventLock = { classId: EVENT_LOCK, objectId: Number(row.rows[0]?.h ?? 0) }
  } catch (error) {
    await db.destroy().catch(() => undefined)
    throw error
  }

  let commits = 0
  let transactions = 0
  let closing = false
  const inflight = new Set<Promise<unknown>>()

  const attempt = <T>(fn: (tx: Tx) => Promise<T>, isolation: 'serializable' | 'read committed') =>
    db
      .transaction()
      .setIsolationLevel(isolation)
      .execute(async (trx) => {
        trackEvents(trx)
        const value = await fn(trx)
        await flushEvents(trx, eventLock)
        return value
      })

  const runWrite = async <T>(fn: (tx: Tx) => Promise<T>, writeOptions: WriteOptions | undefined): Promise<T> => {
    const isolation = writeOptions?.isolation ?? 'read committed'
    for (let run = 1; ; run++) {
      try {
        const value = await attempt(fn, isolation)
        commits++
        transactions++
        return value
      } catch (error) {
        const code = errorCode(error)
        const conflict = code === '40001' || code === '40P01'
        const raced = code === '23505' && run < 3
        if (!conflict && !raced) throw error
        if (run >= maxAttempts) throw new StoreUnavailableError(`the database kept reporting conflicting writes (${run} tries); retry`, { cause: error })
        // Full jitter over a doubling window (2 ms … 256 ms) so the contenders spread out.
        await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(256, 2 ** run)))
      }
    }
  }

  return {
    dialect: 'postgres',
    read: db,
    write<T>(fn: (tx: Tx) => Promise<T>, writeOptions?: WriteOptions): Promise<T> {
      if (closing) return Promise.reject(new Error('the store is closed'))
      const p = runWrite(fn, writeOptions)
      inflight.add(p)
      const forget = () => inflight.delete(p)
      p.then(forget, forget)
      return p
    },
    stats: () => ({ commits, transactions }),
    eventHorizon: coalesce(() => readHorizon(db, eventLock)),
    async ping() {
      await sql`select 1`.execute(db)
      return true
    },
    async close() {
      closing = true
      await Promise.allSettled([...inflight])
      await db.destroy()
    },
  }
}

/**
 * Creates the schema and runs the migrations while holding a session advisory lock keyed by the
 * schema, so processes starting together migrate once (the others wait, then find nothing to do).
 */
async function migrate(db: Kysely<Database>, schema: string): Promise<void> {
  await db.connection().execute(async (conn) => {
    await sql`select pg_advisory_lock(${MIGRATION_LOCK}::int4, hashtext(${schema}))`.execute(conn)
    try {
      await sql`create schema if not exists ${sql.id(schema)}`.execute(conn)
      const migrator = new Migrator({ db, provider: migrationProvider('postgres'), migrationTableSchema: schema })
      const { error } = await migrator.migrateToLatest()
      if (error) throw error instanceof Error ? error : new Error(String(error))
    } finally {
      await sql`select pg_advisory_unlock(${MIGRATION_LOCK}::int4, hashtext(${schema}))`.execute(conn).catch(() => undefined)
    }
  })
}
