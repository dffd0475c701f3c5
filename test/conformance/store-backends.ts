import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openStore, type Store } from '../../src/store/db.js'
import { openPostgresStore } from '../../src/store/postgres.js'
import { createTestSchema } from '../harness/pg-schema.js'

/**
 * The stores the conformance suites run on: SQLite (a file, so two Store instances can share it,
 * as two processes would) and PostgreSQL (a fresh schema per backend). PostgreSQL is skipped only
 * when WAGATE_TEST_DATABASE_URL is unset and WAGATE_TEST_REQUIRE_SERVICES is not (CI sets both).
 *
 * @example
 * describe.each(STORE_BACKENDS)('store on $name', ({ name, skip }) => {
 *   describe.skipIf(skip)('…', () => { let b: Backend; beforeAll(async () => { b = await openBackend(name) }) … })
 * })
 */
export type BackendName = 'sqlite' | 'postgres'

const REQUIRED = Boolean(process.env.WAGATE_TEST_REQUIRE_SERVICES)
export const PG_URL = process.env.WAGATE_TEST_DATABASE_URL ?? (REQUIRED ? 'postgres://postgres@127.0.0.1:5432/test' : undefined)
export const pgSkipped = PG_URL === undefined

if (pgSkipped) console.warn('[conformance] skipping the PostgreSQL backend: WAGATE_TEST_DATABASE_URL is not set (set WAGATE_TEST_REQUIRE_SERVICES to make this a failure)')

export const STORE_BACKENDS: Array<{ name: BackendName; skip: boolean }> = [
  { name: 'sqlite', skip: false },
  { name: 'postgres', skip: pgSkipped },
]

export interface Backend {
  name: BackendName
  /** The first store, opened with the backend. */
  store: Store
  /** Another Store instance on the same database (another process, as far as the store knows; SQLite: the same one). */
  open(): Promise<Store>
  /** PostgreSQL: the URL of the backend's schema (for raw connections in tests). */
  url?: string
  close(): Promise<void>
}

export async function openBackend(name: BackendName): Promise<Backend> {
  const stores: Store[] = []
  if (name === 'sqlite') {
    // SQLite serves one process: a second instance in this process would block the event loop in
    // better-sqlite3's busy wait while the first awaits inside its transaction. Its "other
    // instance" is the same store, which is what every process of a SQLite deployment shares.
    const dir = mkdtempSync(join(tmpdir(), 'wagate-conf-'))
    const store = await openStore({ dataDir: dir })
    stores.push(store)
    return {
      name,
      store,
      open: async () => store,
      async close() {
        for (const s of stores) await s.close().catch(() => undefined)
        rmSync(dir, { recursive: true, force: true })
      },
    }
  }
  const schema = await createTestSchema({ url: PG_URL })
  const open = async () => {
    const s = await openPostgresStore({ url: schema.url, poolSize: 6 })
    stores.push(s)
    return s
  }
  return {
    name,
    store: await open(),
    open,
    url: schema.url,
    async close() {
      for (const s of stores) await s.close().catch(() => undefined)
      await schema.drop()
    },
  }
}

/** Seeds a tenant row (most tables hang off one). */
export async function seedTenant(store: Store, id: string): Promise<void> {
  await store.write((tx) => tx.insertInto('tenants').values({ id, name: id, default_country: null, created_at: 1 }).onConflict((oc) => oc.column('id').doNothing()).execute())
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))
