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
  envNumber,
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
 * SQLite: one process, restarted on the same data directory. PostgreSQL + Redis: an `api` process
 * (API and webhooks) stays up while the `worker` process is killed and started again; the messages
 * are posted first, so that the worker starts with a backlog and is killed with a full batch.
 */
const CONCURRENCY = 32
const RATE = 250

interface Setup {
  sim: SimulatorProcess
  /** Receives the API calls and the webhooks. */
  front: GatewayProcess
  /** The process to kill, started once the messages are posted (it may be `front` itself). */
  victim(): Promise<GatewayProcess>
  acct: FaultAccount
}

async function run(setup: Setup, label: string, N: number) {
  const { sim, front, acct } = setup
  const started = Date.now()
  const ids = await sendMany(front, N, (i) => ({ account: acct.name, to: recipient(i), type: 'text', text: `kill ${i}` }))
  const victim = await setup.victim()
  // Kill while sends are going out: well after the first, well before the last.
  await waitFor(async () => (await sim.stats()).sent >= N * 0.4, 90_000, `${N * 0.4} sends`, 50)
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
  // The kill hit leased work (at this rate the worker always holds a full batch), what went out
  // twice is bounded by that batch, and the gateway reports at least that much.
  expect(gatewayReported).toBeGreaterThan(0)
  expect(gatewayReported).toBeLessThanOrEqual(CONCURRENCY)
  expect(simDuplicates).toBeLessThanOrEqual(CONCURRENCY)
  expect(gatewayReported).toBeGreaterThanOrEqual(simDuplicates)
  report(`kill -9 (${label})`, { messages: N, concurrency: CONCURRENCY, sentAtKill, restartMs, simulatorDuplicates: simDuplicates, gatewayPossibleDuplicates: gatewayReported, totalMs: Date.now() - started })
}

// The lease is what a restart waits for; long enough that a loaded database (slow lease renewals)
// does not make live jobs look abandoned.
const WORKER_ENV = { WAGATE_WORKER_CONCURRENCY: String(CONCURRENCY), WAGATE_LEASE_MS: '5000', WAGATE_SEND_TIMEOUT_MS: '10000' }
const N_SQLITE = envNumber('WAGATE_FAULT_KILL_MESSAGES', 2_000)
// Posting is much slower on PostgreSQL (a serializable transaction per message, sharing two cores).
const N_POSTGRES = envNumber('WAGATE_FAULT_KILL_MESSAGES', 1_000)

describe('fault: kill -9 of the worker mid-run, SQLite (restart on the same data directory)', () => {
  let dir = ''
  let setup: Setup

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wagate-fault-kill-'))
    const sim = await startSimulator()
    const gw = await startGatewayProcess({ shared: sharedSettings(), dataDir: dir, env: WORKER_ENV })
    const acct = await createMetaAccount(gw, sim, { name: 'fault-kill', rateLimit: RATE })
    setup = { sim, front: gw, victim: async () => gw, acct }
  }, 90_000)

  afterAll(async () => {
    await setup?.front.stop()
    await setup?.sim.stop()
    if (dir) rmSync(dir, { recursive: true, force: true })
  }, 60_000)

  it(`after the restart all ${N_SQLITE} end read; what went out twice is at most the in-flight batch and reported`, () => run(setup, 'sqlite', N_SQLITE), 150_000)
})

warnSkip('the PostgreSQL kill -9 test', scaleOutMissing)

describe.skipIf(Boolean(scaleOutMissing) && !process.env.WAGATE_TEST_REQUIRE_SERVICES)('fault: kill -9 of a worker process mid-run, PostgreSQL + Redis', () => {
  let setup: Setup
  let db: TestDatabase
  let worker: GatewayProcess | undefined

  beforeAll(async () => {
    assertRequired(scaleOutMissing)
    db = await createDatabase()
    const sim = await startSimulator()
    const shared = sharedSettings()
    const front = await startGatewayProcess({ name: 'gateway-api', shared, databaseUrl: db.url, redisUrl: REDIS_URL, role: 'api', env: WORKER_ENV })
    const acct = await createMetaAccount(front, sim, { name: 'fault-kill-pg', rateLimit: RATE })
    const victim = async () => {
      worker = await startGatewayProcess({ name: 'gateway-worker', shared, databaseUrl: db.url, redisUrl: REDIS_URL, role: 'worker', env: WORKER_ENV })
      return worker
    }
    setup = { sim, front, victim, acct }
  }, 90_000)

  afterAll(async () => {
    await worker?.stop()
    await setup?.front.stop()
    await setup?.sim.stop()
    await db?.drop()
  }, 60_000)

  it(`all ${N_POSTGRES} end read with the worker killed; what went out twice is at most its in-flight batch and reported`, () => run(setup, 'postgres', N_POSTGRES), 150_000)
})
