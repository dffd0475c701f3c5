import pg from 'pg'
import { describe, expect, it } from 'vitest'
import { checkServices, createBenchSchema, openPgProbe, pgStorageReport, redactUrl } from './pg-services.js'

/**
 * The benchmark's own use of PostgreSQL and Redis: the reachability check that decides whether the
 * postgres backends run or are reported as skipped, and the schema it creates for a scenario, reads
 * while the gateways run, measures and drops — without touching anything else in the database.
 */
const databaseUrl = process.env.WAGATE_BENCH_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test'
const redisUrl = process.env.WAGATE_BENCH_REDIS_URL || 'redis://127.0.0.1:6379'
const available = (await checkServices(databaseUrl, redisUrl)).ok

async function query<T>(text: string, params: unknown[] = []): Promise<T[]> {
  const c = new pg.Client({ connectionString: databaseUrl })
  await c.connect()
  try {
    return (await c.query(text, params)).rows as T[]
  } finally {
    await c.end()
  }
}

describe('service check', () => {
  it('names the service that does not answer, without its password', async () => {
    const down = await checkServices('postgres://bench:s3cretpw@127.0.0.1:1/test', redisUrl)
    expect(down.ok).toBe(false)
    if (!down.ok) {
      expect(down.reason).toMatch(/^PostgreSQL at postgres:\/\/bench:\*\*\*@127\.0\.0\.1:1\/test is not reachable \(/)
      expect(down.reason).not.toContain('s3cretpw')
    }
    expect(redactUrl('redis://:pw@cache:6379/2')).toBe('redis://:***@cache:6379/2')
  })
})

describe.skipIf(!available && !process.env.WAGATE_TEST_REQUIRE_SERVICES)('bench schema on PostgreSQL', () => {
  it('creates a fresh schema, reads progress and storage from it, and drops only it', async () => {
    const schema = await createBenchSchema(databaseUrl, 'selftest')
    expect(schema.name).toMatch(/^wagate_bench_selftest_[0-9a-f]{8}$/)
    expect(new URL(schema.gatewayUrl).searchParams.get('schema')).toBe(schema.name)
    try {
      // the few columns the probe reads, standing in for the gateway's migrations
      const s = `"${schema.name}"`
      await query(`create table ${s}.tenants (id text primary key)`)
      await query(`create table ${s}.messages (id text primary key, tenant_id text, account_id text, direction text, status text, provider_message_id text, urn text, created_at bigint, updated_at bigint)`)
      await query(`insert into ${s}.tenants values ('tn_default')`)
      await query(
        `insert into ${s}.messages values
          ('m1','tn_default','acc_1','out','sent','wamid.1','tel:+14155550001',1000,1040),
          ('m2','tn_default','acc_1','out','failed',null,'tel:+14155550002',1001,1090),
          ('m3','tn_default','acc_2','out','queued',null,'tel:+14155550003',1002,1002),
          ('m0','tn_default','acc_1','out','sent','wamid.0','tel:+14155550004',10,20)`,
      )
      const probe = await openPgProbe(databaseUrl, schema.name)
      try {
        expect(await probe.progress(1000)).toEqual({ total: 3, sent: 1, failed: 1, firstCreated: 1000, lastUpdate: 1090 })
        expect(await probe.sentLatencies(1000)).toEqual([40])
        expect(await probe.sentMessages(['acc_1'])).toEqual([
          { accountId: 'acc_1', wamid: 'wamid.0', urn: 'tel:+14155550004' },
          { accountId: 'acc_1', wamid: 'wamid.1', urn: 'tel:+14155550001' },
        ])
      } finally {
        await probe.close()
      }
      const st = await pgStorageReport(databaseUrl, schema.name)
      expect(st.rows.messages).toBe(4)
      expect(st.tableBytes.messages).toBeGreaterThan(0)
      expect(st.usedBytes).toBe((st.tableBytes.messages ?? 0) + (st.tableBytes.tenants ?? 0))
    } finally {
      await schema.drop()
    }
    const left = await query<{ n: number }>('select count(*)::int as n from pg_namespace where nspname = $1', [schema.name])
    expect(left[0]?.n).toBe(0)
    // the database's own schema is still there
    expect((await query<{ n: number }>(`select count(*)::int as n from pg_namespace where nspname = 'public'`))[0]?.n).toBe(1)
  })
})
