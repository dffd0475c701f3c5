import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  allOutbound,
  anyWithStatus,
  countBy,
  createMetaAccount,
  duplicateRefs,
  recipient,
  REDIS_URL,
  report,
  sendMany,
  sharedSettings,
  startGatewayProcess,
  startSimulator,
  waitFor,
  type FaultAccount,
  type GatewayProcess,
  type SimulatorProcess,
} from './harness.js'
import { assertRequired, createDatabase, scaleOutMissing, warnSkip, type TestDatabase } from './services.js'

/**
 * Fault: `kill -9` of the process running the outbox, mid-run. Every accepted message must still
 * end in a terminal state once a worker runs again. What can go out twice is a job the dead
 * process had leased and handed to the provider without recording the answer: at most the jobs it
 * held, i.e. its worker concurrency (the in-flight batch). That number is compared on both sides:
 * the simulator counts sends of a wagate id it had already accepted (Meta sends carry the id as
 * `biz_opaque_callback_data`), the gateway counts jobs it took over from an expired lease
 * (`duplicate_risk` on the message) — it must not report fewer than really happened.
 *
 * SQLite: one process, restarted on the same data directory. PostgreSQL + Redis: an `all` process
 * (API, webhooks, worker) and a `worker` process; the worker is killed, the other process takes its
 * leases over when they expire, and the worker is started again.
 */
const N = 2_000
const CONCURRENCY = 32
const RATE = 250

interface Setup {
  sim: SimulatorProcess
  /** Receives the API calls and the webhooks. */
  front: GatewayProcess
  /** The process killed. */
  victim: GatewayProcess
  acct: FaultAccount
}

async function run(setup: Setup, label: string) {
  const { sim, front, victim, acct } = setup
  const started = Date.now()
  const ids = await sendMany(front, N, (i) => ({ account: acct.name, to: recipient(i), type: 'text', text: `kill ${i}` }))
  // Kill while sends are going out: well after the first, well before the last.
  await waitFor(async () => (await sim.stats()).sent >= N * 0.4, 60_000, `${N * 0.4} sends`, 50)
  const sentAtKill = (await sim.stats()).sent
  await victim.kill9()
  const killedAt = Date.now()
  expect(sentAtKill).toBeLessThan(N)

  await victim.restart()
  const restartMs = Date.now() - killedAt
  await waitFor(async () => !(await anyWithStatus(front, ['accepted', 'queued', 'sending', 'sent', 'delivered'])), 90_000, 'every message to end', 1_000)

  const rows = await allOutbound(front)
  const byStatus = countBy(rows, (r) => r.status)
  expect(rows).toHaveLength(N)
  expect(new Set(rows.map((r) => r.id))).toEqual(new Set(ids))
  // The provider is healthy here: terminal means read.
  expect(byStatus).toEqual({ read: N })

  const sent = await sim.sent()
  const stats = await sim.stats()
  expect(new Set(sent.map((s) => s.clientRef))).toEqual(new Set(ids))
  const simDuplicates = duplicateRefs(sent)
  expect(stats.duplicates).toBe(simDuplicates)
  expect(sent).toHaveLength(N + simDuplicates)
  const gatewayReported = rows.reduce((sum, r) => sum + r.duplicate_risk, 0)
  // Bounded by the in-flight batch, and reported by the gateway.
  expect(simDuplicates).toBeLessThanOrEqual(CONCURRENCY)
  expect(gatewayReported).toBeLessThanOrEqual(CONCURRENCY)
  expect(gatewayReported).toBeGreaterThanOrEqual(simDuplicates)
  report(`kill -9 (${label})`, { messages: N, concurrency: CONCURRENCY, sentAtKill, restartMs, simulatorDuplicates: simDuplicates, gatewayPossibleDuplicates: gatewayReported, totalMs: Date.now() - started })
}

const WORKER_ENV = { WAGATE_WORKER_CONCURRENCY: String(CONCURRENCY), WAGATE_LEASE_MS: '2000', WAGATE_SEND_TIMEOUT_MS: '10000' }

describe('fault: kill -9 of the worker mid-run, SQLite (restart on the same data directory)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wagate-fault-kill-'))
  let setup: Setup

  beforeAll(async () => {
    const sim = await startSimulator()
    const gw = await startGatewayProcess({ shared: sharedSettings(), dataDir: dir, env: WORKER_ENV })
    const acct = await createMetaAccount(gw, sim, { name: 'fault-kill', rateLimit: RATE })
    setup = { sim, front: gw, victim: gw, acct }
  }, 90_000)

  afterAll(async () => {
    await setup?.front.stop()
    await setup?.sim.stop()
    rmSync(dir, { recursive: true, force: true })
  }, 60_000)

  it(`after the restart all ${N} end read; what went out twice is at most the in-flight batch and reported`, () => run(setup, 'sqlite'), 150_000)
})

warnSkip('the PostgreSQL kill -9 test', scaleOutMissing)

describe.skipIf(Boolean(scaleOutMissing) && !process.env.WAGATE_TEST_REQUIRE_SERVICES)('fault: kill -9 of a worker process mid-run, PostgreSQL + Redis', () => {
  let setup: Setup
  let db: TestDatabase
  let worker: GatewayProcess

  beforeAll(async () => {
    assertRequired(scaleOutMissing)
    db = await createDatabase()
    const sim = await startSimulator()
    const shared = sharedSettings()
    const front = await startGatewayProcess({ name: 'gateway-all', shared, databaseUrl: db.url, redisUrl: REDIS_URL, env: WORKER_ENV })
    worker = await startGatewayProcess({ name: 'gateway-worker', shared, databaseUrl: db.url, redisUrl: REDIS_URL, role: 'worker', env: WORKER_ENV })
    const acct = await createMetaAccount(front, sim, { name: 'fault-kill-pg', rateLimit: RATE })
    setup = { sim, front, victim: worker, acct }
  }, 90_000)

  afterAll(async () => {
    await worker?.stop()
    await setup?.front.stop()
    await setup?.sim.stop()
    await db?.drop()
  }, 60_000)

  it(`all ${N} end read with the worker killed; what went out twice is at most its in-flight batch and reported`, () => run(setup, 'postgres'), 150_000)
})
