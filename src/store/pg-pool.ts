import pg from 'pg'
import type { PostgresCursor, PostgresPool, PostgresPoolClient, PostgresQueryResult } from 'kysely'
import { errorCode, isConnectionFailure, StoreUnavailableError } from './errors.js'

/**
 * A node-postgres pool made to fail fast and heal by itself, behind Kysely's pool interface:
 * - opening a connection gives up after `connectTimeoutMs`, waiting for one after `acquireTimeoutMs`;
 * - every statement has a server-side `statement_timeout` and a client-side read timeout a little
 *   longer, which also catches a blackholed connection the server cannot cancel;
 * - a connection that broke or timed out is destroyed on release instead of going back to the pool,
 *   so once the database is back, new connections replace it;
 * - those failures surface as `StoreUnavailableError` (HTTP 503), never as a hang;
 * - int8 and numeric come back as JS numbers (counts, sums, bigint columns hold unix ms).
 *
 * @example
 * const { pool } = createPgPool({ connectionString, schema: 'public', max: 10, connectTimeoutMs: 3_000, acquireTimeoutMs: 4_000, statementTimeoutMs: 3_000 })
 * const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) })
 */
export interface PgPoolSettings {
  connectionString: string
  /** Put first on every connection's search_path. */
  schema: string
  max: number
  /** Longest time to open one connection. */
  connectTimeoutMs: number
  /** Longest wait for a connection, free or new (a queue of writes waits here). */
  acquireTimeoutMs: number
  /** Longest statement on the server; the client gives up 1 s later (a silent socket). 0: no limit. */
  statementTimeoutMs: number
  /** Called with errors of idle or broken connections (they are dropped, not thrown). */
  onError?: ((error: Error) => void) | undefined
}

const INT8 = 20
const NUMERIC = 1700

const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8 || oid === NUMERIC ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format ?? 'text')) as typeof pg.types.getTypeParser,
}

interface Tracked {
  api: PostgresPoolClient
  broken: boolean
  /** SQL text → name of the server-side prepared statement made for it on this connection. */
  prepared: Map<string, string>
}

/**
 * Statements with parameters are prepared once per connection under a name and then only bound and
 * executed: the server parses and plans each of the engine's few dozen statement shapes once
 * instead of on every call (measured: PostgreSQL's CPU per send fell by about a third). Statements
 * whose text varies (`in ($1, …, $n)` of varying length) would fill the server's memory with
 * one-off plans, so each connection prepares at most this many and runs the rest unnamed.
 */
const MAX_PREPARED_PER_CONNECTION = 200

export function createPgPool(settings: PgPoolSettings): { pool: PostgresPool; raw: pg.Pool } {
  // Opening a connection is bounded by the client; waiting for a free one by `connect()` below
  // (a burst of writes may queue longer than a new connection may take to open).
  const connectTimeoutMs = settings.connectTimeoutMs
  class Client extends pg.Client {
    constructor(config?: pg.ClientConfig) {
      super({ ...config, connectionTimeoutMillis: connectTimeoutMs })
    }
  }
  const raw = new pg.Pool({
    Client,
    connectionString: settings.connectionString,
    max: settings.max,
    connectionTimeoutMillis: 0,
    idleTimeoutMillis: 30_000,
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
    // 0: no limit (migrations).
    statement_timeout: settings.statementTimeoutMs,
    ...(settings.statementTimeoutMs > 0 ? { query_timeout: settings.statementTimeoutMs + 1_000 } : {}),
    // A process that dies mid-transaction must not hold row locks (or the event lock) for long.
    idle_in_transaction_session_timeout: 30_000,
    options: `-c search_path=${settings.schema}`,
    application_name: 'wagate',
    types,
  })
  // Idle connections that break (server restart, network cut) are removed by the pool; without a
  // listener the 'error' event would crash the process.
  raw.on('error', (error) => settings.onError?.(error))

  const tracked = new WeakMap<pg.PoolClient, Tracked>()

  const track = (client: pg.PoolClient): Tracked => {
    const known = tracked.get(client)
    if (known) return known
    const state: Tracked = {
      broken: false,
      prepared: new Map(),
      api: {
        query: ((text: unknown, params?: readonly unknown[]) => {
          // Kysely passes a cursor object for streaming; hand it through untouched.
          if (typeof text !== 'string') return client.query(text as pg.Submittable) as unknown
          return client.query(statement(state, text, params)).catch((error: unknown) => {
            if (errorCode(error) === '57014') throw new StoreUnavailableError('a database statement timed out', { cause: error })
            // "cached plan must not change result type": a migration altered a table under one of
            // this connection's prepared statements. A fresh connection prepares them again.
            if (errorCode(error) === '0A000') {
              state.broken = true
              throw new StoreUnavailableError('the database schema changed under a prepared statement', { cause: error })
            }
            if (isConnectionFailure(error)) {
              state.broken = true
              throw new StoreUnavailableError('the database connection failed', { cause: error })
            }
            throw error
          })
        }) as {
          <R>(sql: string, parameters: ReadonlyArray<unknown>): Promise<PostgresQueryResult<R>>
          <R>(cursor: PostgresCursor<R>): PostgresCursor<R>
        },
        release() {
          // `true` destroys the connection: one that broke or hung must not serve the next caller.
          client.release(state.broken ? true : undefined)
        },
      },
    }
    // A checked-out client has no pool listener; its 'error' (socket closed) would be uncaught.
    client.on('error', (error) => {
      state.broken = true
      settings.onError?.(error)
    })
    tracked.set(client, state)
    return state
  }

  const statement = (state: Tracked, text: string, params: readonly unknown[] | undefined): pg.QueryConfig => {
    const values = params as unknown[] | undefined
    // No parameters: DDL, `begin`, `commit`, and migration scripts of several statements, which
    // only the simple protocol (unnamed) accepts.
    if (!values || values.length === 0) return { text, values }
    let name = state.prepared.get(text)
    if (name === undefined && state.prepared.size < MAX_PREPARED_PER_CONNECTION) {
      name = `wagate_${state.prepared.size}`
      state.prepared.set(text, name)
    }
    return name === undefined ? { text, values } : { name, text, values }
  }

  const pool: PostgresPool = {
    async connect() {
      const pending = raw.connect()
      let timer: NodeJS.Timeout | undefined
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('timeout exceeded when trying to connect')), settings.acquireTimeoutMs)
      })
      let client: pg.PoolClient
      try {
        client = await Promise.race([pending, timeout])
      } catch (error) {
        // A connection that arrives after we gave up goes straight back.
        pending.then((late) => late.release(), () => undefined)
        throw new StoreUnavailableError('the database is not answering (no connection)', { cause: error })
      } finally {
        clearTimeout(timer)
      }
      return track(client).api
    },
    end: () => raw.end(),
  }
  return { pool, raw }
}
