import { createHash, randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import pg from 'pg'
import { openStore, type Store } from '../../src/store/db.js'

/**
 * Which store the end-to-end tests run on: `WAGATE_TEST_BACKEND=postgres` (with
 * WAGATE_TEST_DATABASE_URL) gives each test gateway its own PostgreSQL schema; otherwise SQLite.
 *
 * @example
 * const db = await createTestSchema()            // fresh schema, dropped by db.drop()
 * const url = db.url                             // postgres://…/test?schema=wg_t_…
 */
export const TEST_BACKEND: 'sqlite' | 'postgres' = process.env.WAGATE_TEST_BACKEND === 'postgres' ? 'postgres' : 'sqlite'
export const TEST_DATABASE_URL = process.env.WAGATE_TEST_DATABASE_URL

export interface TestSchema {
  schema: string
  /** The database URL with `schema=` set, as WAGATE_DATABASE_URL takes it. */
  url: string
  /** Drops a fresh schema; one tied to a data directory is kept (a restart reopens it) until the directory is gone. */
  drop(): Promise<void>
}

async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 })
  await client.connect()
  try {
    return await fn(client)
  } finally {
    await client.end().catch(() => undefined)
  }
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as { code?: string }).code === 'EPERM'
  }
}

let swept = false

/** Drops test schemas left behind: by a process that died, or tied to a data directory since removed. */
async function sweep(url: string): Promise<void> {
  if (swept) return
  swept = true
  await withClient(url, async (client) => {
    const { rows } = await client.query<{ name: string; note: string | null }>(
      `select nspname as name, obj_description(oid, 'pg_namespace') as note from pg_namespace where nspname like 'wg\\_t\\_%' or nspname like 'wg\\_d\\_%'`,
    )
    for (const row of rows) {
      let note: { pid?: number; dir?: string } = {}
      try {
        note = JSON.parse(row.note ?? '{}') as typeof note
      } catch {
        // not ours to judge: leave it
        continue
      }
      const stale = note.dir ? !existsSync(note.dir) : note.pid !== undefined && !alive(note.pid)
      if (stale) await client.query(`drop schema if exists "${row.name}" cascade`).catch(() => undefined)
    }
  })
}

export function withSchema(url: string, schema: string): string {
  const u = new URL(url)
  u.searchParams.set('schema', schema)
  return u.toString()
}

/**
 * A schema for one test gateway (or store). With `dataDir`, the same directory always maps to the
 * same schema, so a test that restarts a gateway on its data directory finds its data again.
 */
export async function createTestSchema(opts: { dataDir?: string | undefined; url?: string | undefined } = {}): Promise<TestSchema> {
  const base = opts.url ?? TEST_DATABASE_URL
  if (!base) throw new Error('WAGATE_TEST_BACKEND=postgres needs WAGATE_TEST_DATABASE_URL (e.g. postgres://postgres@127.0.0.1:5432/test)')
  await sweep(base)
  const dir = opts.dataDir && opts.dataDir !== ':memory:' ? opts.dataDir : undefined
  const schema = dir ? `wg_d_${createHash('sha256').update(dir).digest('hex').slice(0, 24)}` : `wg_t_${randomBytes(10).toString('hex')}`
  const note = JSON.stringify(dir ? { dir } : { pid: process.pid })
  await withClient(base, async (client) => {
    await client.query(`create schema if not exists "${schema}"`).catch(async (err: unknown) => {
      // Two starts racing on one directory's schema: the other one created it.
      const { rowCount } = await client.query('select 1 from pg_namespace where nspname = $1', [schema])
      if (!rowCount) throw err
    })
    await client.query(`comment on schema "${schema}" is ${pg.escapeLiteral(note)}`)
  })
  return {
    schema,
    url: withSchema(base, schema),
    async drop() {
      if (dir) return
      await withClient(base, (client) => client.query(`drop schema if exists "${schema}" cascade`))
    },
  }
}

/**
 * The store a test gateway started with `WAGATE_DATA_DIR: dataDir` uses, opened beside it (to write
 * while it is down): that directory's schema on PostgreSQL, its SQLite file otherwise.
 *
 * @example
 * const store = await openTestStore(dir)
 */
export async function openTestStore(dataDir: string): Promise<Store> {
  if (TEST_BACKEND !== 'postgres') return openStore({ dataDir })
  const schema = await createTestSchema({ dataDir })
  return openStore({ dataDir, databaseUrl: schema.url })
}
