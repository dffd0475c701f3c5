import { randomBytes } from 'node:crypto'
import { Redis } from 'ioredis'
import pg from 'pg'
import type { StorageReport } from './db-probe.js'
import type { Progress, StoreProbe } from './store-probe.js'

/**
 * The PostgreSQL + Redis side of the benchmark: whether both answer, a fresh schema per scenario
 * (created here, used by the gateways through `?schema=`, dropped afterwards — nothing else in the
 * database is touched), and the same reads as db-probe.ts does on the SQLite file: when messages
 * reached `sent`, and the bytes each table takes.
 *
 * @example
 * const up = await checkServices('postgres://postgres@127.0.0.1:5432/test', 'redis://127.0.0.1:6379')
 * if (up.ok) {
 *   const schema = await createBenchSchema('postgres://postgres@127.0.0.1:5432/test', 'ingest_pg1')
 *   // start gateways with WAGATE_DATABASE_URL=schema.gatewayUrl …
 *   await schema.drop()
 * }
 */
export type ServiceCheck = { ok: true; postgresVersion: string } | { ok: false; reason: string }

/** The URL without its password, for logs and RESULTS.md. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url)
    if (u.password) u.password = '***'
    return u.toString()
  } catch {
    return 'an unparsable URL'
  }
}

const message = (err: unknown) => (err instanceof Error ? err.message || err.name : String(err)).split('\n')[0]

function client(databaseUrl: string, schema?: string): pg.Client {
  return new pg.Client({
    connectionString: databaseUrl,
    connectionTimeoutMillis: 3_000,
    application_name: 'wagate-bench',
    ...(schema ? { options: `-c search_path=${schema}` } : {}),
  })
}

/** Both services answer (PostgreSQL `select 1`, Redis PING), each within a few seconds. */
export async function checkServices(databaseUrl: string, redisUrl: string): Promise<ServiceCheck> {
  let postgresVersion = ''
  const c = client(databaseUrl)
  try {
    await c.connect()
    postgresVersion = String((await c.query<{ server_version: string }>('show server_version')).rows[0]?.server_version ?? '?')
  } catch (err) {
    return { ok: false, reason: `PostgreSQL at ${redactUrl(databaseUrl)} is not reachable (${message(err)})` }
  } finally {
    await c.end().catch(() => undefined)
  }
  const redis = new Redis(redisUrl, { lazyConnect: true, connectTimeout: 3_000, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false })
  redis.on('error', () => undefined)
  try {
    await redis.connect()
    const pong = await redis.ping()
    if (pong !== 'PONG') return { ok: false, reason: `Redis at ${redactUrl(redisUrl)} answered ${pong} to PING` }
  } catch (err) {
    return { ok: false, reason: `Redis at ${redactUrl(redisUrl)} is not reachable (${message(err)})` }
  } finally {
    redis.disconnect()
  }
  return { ok: true, postgresVersion }
}

export interface BenchSchema {
  name: string
  /** WAGATE_DATABASE_URL for the gateways: the database URL with `schema=<name>` added. */
  gatewayUrl: string
  /** `drop schema <name> cascade` (only this schema). */
  drop(): Promise<void>
}

const SCHEMA = /^[a-z_][a-z0-9_]{0,62}$/

/**
 * Creates a new, empty schema `wagate_bench_<label>_<random>`. `create schema` without `if not
 * exists`, so a name that somehow exists already fails here instead of being reused and dropped.
 */
export async function createBenchSchema(databaseUrl: string, label: string): Promise<BenchSchema> {
  const name = `wagate_bench_${label.toLowerCase().replace(/[^a-z0-9_]/g, '_')}_${randomBytes(4).toString('hex')}`.slice(0, 63)
  if (!SCHEMA.test(name)) throw new Error(`bad schema name ${name}`)
  const c = client(databaseUrl)
  await c.connect()
  try {
    await c.query(`create schema "${name}"`)
  } finally {
    await c.end().catch(() => undefined)
  }
  const url = new URL(databaseUrl)
  url.searchParams.set('schema', name)
  return {
    name,
    gatewayUrl: url.toString(),
    async drop() {
      const d = client(databaseUrl)
      await d.connect()
      try {
        await d.query(`drop schema if exists "${name}" cascade`)
      } finally {
        await d.end().catch(() => undefined)
      }
    },
  }
}

/** The SQLite probe's reads (db-probe.ts), on a bench schema, while the gateways run. */
export async function openPgProbe(databaseUrl: string, schema: string): Promise<StoreProbe> {
  const c = client(databaseUrl, schema)
  await c.connect()
  const tenant = String((await c.query<{ id: string }>('select id from tenants limit 1')).rows[0]?.id ?? '')
  const num = (v: unknown) => (v === null || v === undefined ? Number.NaN : Number(v))
  return {
    async progress(sinceMs: number): Promise<Progress> {
      const r = (
        await c.query(
          `select count(*) as total,
                  sum(case when status in ('sent','delivered','read') then 1 else 0 end) as sent,
                  sum(case when status = 'failed' then 1 else 0 end) as failed,
                  min(created_at) as first_created,
                  max(case when status in ('sent','delivered','read','failed') then updated_at end) as last_update
             from messages where tenant_id = $1 and created_at >= $2 and direction = 'out'`,
          [tenant, sinceMs],
        )
      ).rows[0] as Record<string, unknown>
      return { total: num(r.total) || 0, sent: num(r.sent) || 0, failed: num(r.failed) || 0, firstCreated: num(r.first_created), lastUpdate: num(r.last_update) }
    },
    async sentLatencies(sinceMs: number): Promise<number[]> {
      const rows = (await c.query(`select updated_at - created_at as d from messages where tenant_id = $1 and created_at >= $2 and direction = 'out' and status = 'sent'`, [tenant, sinceMs])).rows as Array<{ d: unknown }>
      return rows.map((r) => Number(r.d))
    },
    async sentMessages(accountIds: string[]) {
      if (accountIds.length === 0) return []
      const rows = (
        await c.query(
          `select account_id, provider_message_id, urn from messages
            where direction = 'out' and status = 'sent' and provider_message_id is not null and account_id = any($1) order by id`,
          [accountIds],
        )
      ).rows as Array<{ account_id: string; provider_message_id: string; urn: string }>
      return rows.map((r) => ({ accountId: r.account_id, wamid: r.provider_message_id, urn: r.urn }))
    },
    close: () => c.end(),
  }
}

/**
 * Bytes per table of the schema, indexes and TOAST included (`pg_total_relation_size`), after the
 * gateways stopped. Updated rows leave dead versions until autovacuum reclaims the space, and they
 * count here: that is what the disk holds.
 */
export async function pgStorageReport(databaseUrl: string, schema: string): Promise<StorageReport> {
  const c = client(databaseUrl, schema)
  await c.connect()
  try {
    const sizes = (
      await c.query(
        `select c.relname as name, pg_total_relation_size(c.oid) as bytes
           from pg_class c join pg_namespace n on n.oid = c.relnamespace
          where n.nspname = $1 and c.relkind in ('r', 'p')`,
        [schema],
      )
    ).rows as Array<{ name: string; bytes: unknown }>
    const tableBytes: Record<string, number> = {}
    for (const r of sizes) tableBytes[r.name] = Number(r.bytes)
    const rows: Record<string, number> = {}
    for (const t of ['messages', 'message_history', 'events', 'contacts', 'contact_urns', 'conversations', 'outbox', 'parked_statuses']) {
      if (tableBytes[t] === undefined) continue
      rows[t] = Number((await c.query(`select count(*) as n from "${t}"`)).rows[0]?.n ?? 0)
    }
    const total = Object.values(tableBytes).reduce((a, b) => a + b, 0)
    return { fileBytes: total, usedBytes: total, rows, tableBytes }
  } finally {
    await c.end().catch(() => undefined)
  }
}
