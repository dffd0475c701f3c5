import type SQLite from 'better-sqlite3'
import type { SqliteDatabase, SqliteStatement } from 'kysely'
import type { DirectExecutor } from './prepared.js'

/**
 * Kysely's SQLite driver calls `db.prepare(sql)` on every execution, and better-sqlite3 compiles
 * the statement again each time: about a fifth of the gateway's CPU under webhook load. This wraps
 * the better-sqlite3 Database handed to `SqliteDialect` so that `prepare` returns the Statement
 * already compiled for the same SQL text, kept in a bounded LRU (Kysely puts values in parameters,
 * so texts repeat; `in (?, ?, …)` lists of varying length are what the bound is for).
 *
 * Reuse is safe for how Kysely uses a statement: it reads `reader` (fixed at compile time) and
 * calls `all`/`run`, which bind the parameters afresh and finish before returning. It never calls
 * `raw`/`pluck`/`expand`/`safeIntegers` (per-statement modes that would stick), and the Statement
 * never leaves this wrapper except to Kysely. The one call that keeps a statement busy after it
 * returns is `iterate` (Kysely's `.stream()`): a statement found busy is not shared, a fresh one is
 * prepared for that call. SQLite recompiles a prepared statement by itself after a schema change.
 *
 * @example
 * const raw = new SQLite(file)
 * const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(raw) }) })
 */
export interface StatementCacheStats {
  size: number
  hits: number
  misses: number
}

export interface CachedDatabase extends SqliteDatabase {
  /** How the cache did so far (tests and metrics). */
  statementCacheStats(): StatementCacheStats
}

export const DEFAULT_STATEMENT_CACHE_SIZE = 500

export function withStatementCache(db: SQLite.Database, maxSize = DEFAULT_STATEMENT_CACHE_SIZE): CachedDatabase {
  // A hit only stamps its entry (a hit is the hot path: no Map reshuffling); the least recently
  // used entry is searched for only when a miss overflows the bound, which steady traffic rarely does.
  const statements = new Map<string, { statement: SQLite.Statement; used: number }>()
  let tick = 0
  let hits = 0
  let misses = 0
  const evictOldest = () => {
    let oldest: string | undefined
    let oldestUse = Infinity
    for (const [sql, entry] of statements) {
      if (entry.used < oldestUse) {
        oldestUse = entry.used
        oldest = sql
      }
    }
    if (oldest !== undefined) statements.delete(oldest)
  }
  return {
    prepare(sql: string): SqliteStatement {
      const cached = statements.get(sql)
      if (cached) {
        if (cached.statement.busy) return db.prepare(sql)
        hits++
        cached.used = ++tick
        return cached.statement
      }
      misses++
      const statement = db.prepare(sql)
      if (statements.size >= maxSize) evictOldest()
      statements.set(sql, { statement, used: ++tick })
      return statement
    },
    close() {
      statements.clear()
      db.close()
    },
    statementCacheStats: () => ({ size: statements.size, hits, misses }),
  }
}

/**
 * Runs SQL on the cached database as Kysely's SQLite driver would (`all` for statements that return
 * rows, `run` otherwise, the same result shape), without Kysely's executor around it: prepared
 * queries on SQLite go through this (store/prepared.ts).
 *
 * @example
 * registerDirectExecutor(kysely, directExecutor(cached))
 */
export function directExecutor(db: CachedDatabase): DirectExecutor {
  return (sql, parameters) => {
    const statement = db.prepare(sql)
    if (statement.reader) return { rows: statement.all(parameters) }
    const { changes, lastInsertRowid } = statement.run(parameters)
    return { numAffectedRows: BigInt(changes), insertId: BigInt(lastInsertRowid), rows: [] }
  }
}
