import { CompiledQuery, type Compilable, type QueryResult } from 'kysely'
import type { Tx } from './db.js'

/**
 * A query built and compiled by Kysely once per dialect, then run with new parameters.
 *
 * Kysely builds an operation tree, freezes it and compiles it to SQL on every execution: on the
 * hot paths (a webhook, an accepted message) that was 13–20% of the gateway's CPU, more than
 * executing the statements. `prepared` runs the builder once per dialect with a stand-in for each
 * parameter, remembers which compiled parameter is which, and afterwards only fills them in.
 *
 * The builder must have one shape whatever the values: it may only place `p`'s values into the
 * query as they are (no `p.x ? … : …`, no `JSON.stringify(p.x)`, no lists of varying length), and
 * every key must be given a value (`null`, not `undefined`). A builder that transforms a value is
 * refused when it is first compiled; an `undefined` parameter is refused at every call.
 *
 * @example
 * const messageById = prepared((db, p: { id: string }) => db.selectFrom('messages').selectAll().where('id', '=', p.id))
 * const row = (await messageById(tx, { id })).rows[0]
 */
export type PreparedQuery<P, R> = (db: Tx, params: P) => Promise<QueryResult<R>>

/**
 * Runs compiled SQL straight on a connection, bypassing Kysely's executor (its promise chain and
 * result transform allocated a quarter of the gateway's memory under webhook load). The SQLite
 * store registers one for each Kysely instance that owns its single connection (store/db.ts).
 */
export type DirectExecutor = (sql: string, parameters: readonly unknown[]) => QueryResult<unknown>

const directExecutors = new WeakMap<object, DirectExecutor>()

/** `db`'s prepared queries run through `execute` from now on (it must run on the same connection). */
export function registerDirectExecutor(db: Tx, execute: DirectExecutor): void {
  directExecutors.set(db, execute)
}

// printable, so that it survives JSON.stringify and similar transforms and they can be caught
const STAND_IN = '__wagate_param__:'

type Slot = { key: string } | { constant: unknown }

interface Template {
  sql: string
  slots: Slot[]
}

export function prepared<P extends Record<string, unknown>, R>(build: (db: Tx, p: P) => Compilable<R>): PreparedQuery<P, R> {
  // One template per dialect (the adapter's class): SQLite and PostgreSQL spell the SQL differently.
  const templates = new Map<unknown, Template>()
  return async (db, params) => {
    const dialect = db.getExecutor().adapter.constructor
    let template = templates.get(dialect)
    if (!template) {
      template = compileTemplate(db, build)
      templates.set(dialect, template)
    }
    const values = template.slots.map((slot) => {
      if (!('key' in slot)) return slot.constant
      const value = params[slot.key]
      if (value === undefined) throw new TypeError(`prepared query: parameter "${slot.key}" is undefined (give null)`)
      return value
    })
    const direct = directExecutors.get(db)
    if (direct) return direct(template.sql, values) as QueryResult<R>
    return db.executeQuery<R>(CompiledQuery.raw(template.sql, values))
  }
}

function compileTemplate<P extends Record<string, unknown>, R>(db: Tx, build: (db: Tx, p: P) => Compilable<R>): Template {
  const standIns = new Proxy({} as P, { get: (_, key) => (typeof key === 'string' ? `${STAND_IN}${key}` : undefined) })
  const compiled = build(db, standIns).compile()
  if (compiled.sql.includes(STAND_IN)) throw new Error(`prepared query: a parameter was written into the SQL text: ${compiled.sql}`)
  const slots = compiled.parameters.map((value): Slot => {
    if (typeof value === 'string' && value.startsWith(STAND_IN)) return { key: value.slice(STAND_IN.length) }
    if (typeof value === 'string' && value.includes(STAND_IN)) throw new Error(`prepared query: the builder transformed a parameter (${JSON.stringify(value)}); pass values as they are`)
    return { constant: value }
  })
  return { sql: compiled.sql, slots }
}
