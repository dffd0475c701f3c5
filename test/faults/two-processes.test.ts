import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  allOutbound,
  anyWithStatus,
  countBy,
  createMetaAccount,
  duplicateRefs,
  envNumber,
  maxInWindow,
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
 * Scale-out: two gateway processes on one PostgreSQL database and one Redis, sharing one Meta
 * account limited to RATE msg/s. WAGATE_FAULT_MESSAGES (default 10,000) messages are posted to
 * both processes alternately. Every one must end `read`, the provider must accept each exactly once
 * (none leased by both processes), and the provider must never see more than the account limit
 * plus 2% in any sliding second — the limit is held across the processes (Redis), not per process.
 * The simulator runs in its own process, so its arrival stamps are the provider's view.
 */
const N = envNumber('WAGATE_FAULT_MESSAGES', 10_000)
const RATE = envNumber('WAGATE_FAULT_RATE', 400)

warnSkip('the two-process PostgreSQL + Redis test', scaleOutMissing)

describe.skipIf(Boolean(scaleOutMissing) && !process.env.WAGATE_TEST_REQUIRE_SERVICES)('scale-out: two gateway processes on one PostgreSQL + Redis', () => {
  let db: TestDatabase
  let sim: SimulatorProcess
  let a: GatewayProcess
  let b: GatewayProcess
  let acct: FaultAccount

  beforeAll(async () => {
    assertRequired(scaleOutMissing)
    db = await createDatabase()
    sim = await startSimulator()
    const shared = sharedSettings()
    // Keep the worker's ready-queue modest: with the limit shared, a large batch per process only
    // waits on the limiter (and must keep renewing its leases).
    const env = { WAGATE_SEND_TIMEOUT_MS: '30000', WAGATE_LEASE_MS: '10000' }
    a = await startGatewayProcess({ name: 'gateway-a', shared, databaseUrl: db.url, redisUrl: REDIS_URL, env })
    b = await startGatewayProcess({ name: 'gateway-b', shared, databaseUrl: db.url, redisUrl: REDIS_URL, env })
    acct = await createMetaAccount(a, sim, { name: 'fault-scale', rateLimit: RATE })
  }, 120_000)

  afterAll(async () => {
    await a?.stop()
    await b?.stop()
    await sim?.stop()
    await db?.drop()
  }, 60_000)

  it(`${N} messages: all read, none sent twice, at most ${RATE} msg/s + 2% at the provider`, async () => {
    const started = Date.now()
    const ids = await sendMany([a, b], N, (i) => ({ account: acct.name, to: recipient(i), type: 'text', text: `scale ${i}` }), 48)
    const acceptedMs = Date.now() - started
    await waitFor(async () => (await sim.stats()).sent >= N, N * (2_000 / RATE) + 60_000, `${N} sends at the provider`, 1_000)
    const sentMs = Date.now() - started
    await waitFor(async () => !(await anyWithStatus(a, ['accepted', 'queued', 'sending', 'sent', 'delivered'])), 120_000, 'every message read', 1_000)
    const readMs = Date.now() - started

    const rows = await allOutbound(a)
    expect(rows).toHaveLength(N)
    expect(new Set(rows.map((r) => r.id))).toEqual(new Set(ids))
    expect(countBy(rows, (r) => r.status)).toEqual({ read: N })

    const sent = await sim.sent()
    const stats = await sim.stats()
    expect(duplicateRefs(sent)).toBe(0)
    expect(stats.duplicates).toBe(0)
    expect(sent).toHaveLength(N)
    expect(new Set(sent.map((s) => s.clientRef))).toEqual(new Set(ids))

    // Both processes did part of the sending, and together they held the one limit.
    const sentByA = await a.metric('wagate_messages_sent_total')
    const sentByB = await b.metric('wagate_messages_sent_total')
    expect(sentByA + sentByB).toBe(N)
    expect(Math.min(sentByA, sentByB)).toBeGreaterThan(N * 0.1)
    const busiest = maxInWindow(sent.map((s) => s.at), 1000)
    const times = sent.map((s) => s.at)
    const achieved = ((N - 1) * 1000) / (Math.max(...times) - Math.min(...times))
    report('two processes', {
      messages: N,
      limit: RATE,
      busiestSecond: busiest,
      achievedPerSec: Number(achieved.toFixed(1)),
      sentByA,
      sentByB,
      acceptedMs,
      allSentMs: sentMs,
      allReadMs: readMs,
    })
    expect(busiest).toBeLessThanOrEqual(Math.floor(RATE * 1.02))
  }, 300_000)
})
