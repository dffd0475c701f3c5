import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import pg from 'pg'
import { DATABASE_URL, REDIS_URL, REPO_ROOT, REQUIRED, secret, unreachable } from './harness.js'

/**
 * PostgreSQL and Redis for the fault tests. Each test gets a database of its own (created here,
 * dropped after), so that test files running in parallel — and the conformance suite — never see
 * each other's outbox. Without the servers the PostgreSQL tests are skipped with the reason
 * printed, unless WAGATE_TEST_REQUIRE_SERVICES is set (CI), where that is a failure.
 *
 * @example
 * const db = await createDatabase()
 * // … gateways with WAGATE_DATABASE_URL = db.url …
 * await db.drop()
 */
export const postgresDown = await unreachable(DATABASE_URL, 5432)
export const redisDown = await unreachable(REDIS_URL, 6379)

/**
 * Whether this build runs on PostgreSQL at all (the store landed in issue 7; before that the gateway
 * refused WAGATE_DATABASE_URL with "not supported by this build").
 */
function postgresStoreMissing(): string | undefined {
  if (!existsSync(join(REPO_ROOT, 'src/store/postgres.ts'))) return 'this build has no PostgreSQL store (src/store/postgres.ts)'
  if (readFileSync(join(REPO_ROOT, 'src/gateway.ts'), 'utf8').includes('not supported by this build')) return 'this build of the gateway refuses WAGATE_DATABASE_URL'
  return undefined
}

/** Why the PostgreSQL fault tests cannot run here (undefined when they can). */
export const postgresMissing: string | undefined = postgresDown ?? postgresStoreMissing()
/** Why the PostgreSQL + Redis fault tests cannot run here (undefined when they can). */
export const scaleOutMissing: string | undefined = postgresMissing ?? redisDown

export function warnSkip(suite: string, reason: string | undefined): void {
  if (reason && !REQUIRED) console.warn(`[faults] skipping ${suite}: ${reason} (set WAGATE_TEST_REQUIRE_SERVICES to make this a failure)`)
}

export function assertRequired(reason: string | undefined): void {
  if (reason && REQUIRED) throw new Error(`WAGATE_TEST_REQUIRE_SERVICES is set but ${reason}`)
}

export interface TestDatabase {
  name: string
  url: string
  /** One query on the test database (counts, checks), through a short-lived connection. */
  query<R extends pg.QueryResultRow = Record<string, unknown>>(text: string, values?: unknown[]): Promise<R[]>
  drop(): Promise<void>
}

async function admin<T>(fn: (client: pg.Client) => Promise<T>, url = DATABASE_URL): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 })
  await client.connect()
  try {
    return await fn(client)
  } finally {
    await client.end()
  }
}

export async function createDatabase(): Promise<TestDatabase> {
  const name = `wagate_fault_${secret(6)}`
  await admin((c) => c.query(`CREATE DATABASE ${name}`))
  const u = new URL(DATABASE_URL)
  u.pathname = `/${name}`
  const url = u.toString()
  return {
    name,
    url,
    query: async <R extends pg.QueryResultRow>(text: string, values?: unknown[]) => admin(async (c) => (await c.query<R>(text, values)).rows, url),
    drop: () => admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined),
  }
}

export { REDIS_URL }
