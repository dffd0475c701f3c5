import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  allOutbound,
  anyWithStatus,
  countBy,
  createMetaAccount,
  duplicateRefs,
  envNumber,
  logSummary,
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
import { startTimingProxy, type TimingProxy } from '../harness/timing-proxy.js'

/**
 * Scale-out: two gateway processes on one PostgreSQL database and one Redis.
 * WAGATE_FAULT_MESSAGES (default 10,000) messages are posted to both processes alternately while
 * they run as `--role api`; then both restart as `--role all` and drain that backlog together, so
 * that both send at full speed and contend for the same limits. Every message must end `read`, the
 * provider must accept each exactly once (none leased by both processes), and the provider must
 * never see more than an account's limit plus 2% in any sliding second: the limits are held across
 * the processes (Redis), not per process. The simulator runs in its own process, so its arrival
 * stamps are the provider's view.
 *
 * The account `fault-scale` is limited to WAGATE_FAULT_RATE (default 400 msg/s, the issue's figure).
 * Two processes on a shared 2-core machine send fewer than that on PostgreSQL, so a second account
 * `fault-paced` at PACED_RATE then gets a burst of PACED_N messages, posted faster than its limit
 * while both processes run (after the first part is all read, so that nothing else competes): its
 * busiest second must reach 90% of the limit (the cap is really contended) and stay within it + 2%,
 * or + 2 messages where 2% is less than that (at 50/s: 52).
 *
 * Arrivals are stamped by a pass-through on its own thread (test/harness/timing-proxy.ts), not by the simulator,
 * whose event loop is busy posting tens of thousands of status webhooks.
 */
const N = envNumber('WAGATE_FAULT_MESSAGES', 10_000)
const RATE = envNumber('WAGATE_FAULT_RATE', 400)
const PACED_RATE = 50
const PACED_N = 500

warnSkip('the two-process PostgreSQL + Redis test', scaleOutMissing)

describe.skipIf(Boolean(scaleOutMissing) && !process.env.WAGATE_TEST_REQUIRE_SERVICES)('scale-out: two gateway processes on one PostgreSQL + Redis', () => {
  let db: TestDatabase
  let sim: SimulatorProcess
  let a: GatewayProcess
  let b: GatewayProcess
  let fast: FaultAccount
  let paced: FaultAccount
  let proxy: TimingProxy

  beforeAll(async () => {
    assertRequired(scaleOutMissing)
    db = await createDatabase()
    sim = await startSimulator()
    proxy = await startTimingProxy(sim.url)
    const shared = sharedSettings()
    // A long lease: on a loaded machine a lease renewal can lag, and a job must not look abandoned.
    const env = { WAGATE_SEND_TIMEOUT_MS: '30000', WAGATE_LEASE_MS: '15000' }
    a = await startGatewayProcess({ name: 'gateway-a', shared, databaseUrl: db.url, redisUrl: REDIS_URL, role: 'api', env })
    b = await startGatewayProcess({ name: 'gateway-b', shared, databaseUrl: db.url, redisUrl: REDIS_URL, role: 'api', env })
    fast = await createMetaAccount(a, sim, { name: 'fault-scale', rateLimit: RATE, graphUrl: proxy.url })
    paced = await createMetaAccount(a, sim, { name: 'fault-paced', rateLimit: PACED_RATE, webhookGateway: b, graphUrl: proxy.url })
  }, 120_000)

  afterAll(async () => {
    await a?.stop()
    await b?.stop()
    await sim?.stop()
    await proxy?.close()
    await db?.drop()
  }, 60_000)

  it(`${N} messages: all read, none sent twice, at most the account limit + 2% at the provider`, async () => {
    const started = Date.now()
    // 1. The backlog, taken by both processes while neither sends.
    // A 503 (a saturated database pool sheds load) is retried after Retry-After with the same
    // Idempotency-Key, as clients are told to; how many were is reported.
    const retried = { count: 0 }
    const posting = { width: 48, retryUnavailable: true, retried }
    const fastIds = await sendMany([a, b], N, (i) => ({ account: fast.name, to: recipient(i), type: 'text', text: `scale ${i}` }), posting)
    const acceptedMs = Date.now() - started
    const phase = (what: string) => console.log(`[faults] two processes: ${what} at +${Date.now() - started} ms`)
    phase(`${N} accepted`)
    expect((await sim.stats()).sent).toBe(0)
    // 2. Both become full processes and drain it together.
    await Promise.all([a.restart('all'), b.restart('all')])
    const drainStart = Date.now()
    await waitFor(async () => (await sim.stats()).sent >= N, N * 100 + 60_000, `${N} sends at the provider`, 1_000)
    const sentMs = Date.now() - drainStart
    phase(`${N} sent`)
    // Status webhooks come back three per message; an overloaded gateway sheds some with 503 and
    // the simulator posts them again, so this can take a while after the last send.
    const allRead = () => waitFor(async () => !(await anyWithStatus(a, ['accepted', 'queued', 'sending', 'sent', 'delivered'])), 300_000, 'every message read', 2_000)
    await allRead()
    const readMs = Date.now() - drainStart
    phase(`${N} read`)
    // 3. On the quiet system, a burst for the paced account, posted faster than its limit.
    const pacedStart = Date.now()
    const pacedIds = await sendMany([a, b], PACED_N, (i) => ({ account: paced.name, to: recipient(N + i), type: 'text', text: `paced ${i}` }), posting)
    const ids = [...fastIds, ...pacedIds]
    await waitFor(async () => (await sim.stats()).sent >= ids.length, (PACED_N * 2_000) / PACED_RATE + 60_000, `${ids.length} sends at the provider`, 500)
    const pacedMs = Date.now() - pacedStart
    phase(`${PACED_N} paced sent`)
    await allRead()

    const rows = await allOutbound(a)
    const sent = await sim.sent()
    const stats = await sim.stats()
    const sentByA = await a.metric('wagate_messages_sent_total')
    const sentByB = await b.metric('wagate_messages_sent_total')
    const slotsRebooked = (await a.metric('wagate_send_slots_rebooked_total')) + (await b.metric('wagate_send_slots_rebooked_total'))
    const arrivals = (await proxy.arrivals()).filter((x) => x.path.endsWith('/messages'))
    const rateOf = (account: FaultAccount) => {
      const times = arrivals.filter((x) => x.path.includes(`/${account.phoneNumberId}/`)).map((x) => x.at)
      const span = Math.max(...times) - Math.min(...times)
      return { calls: times.length, busiestSecond: maxInWindow(times, 1000), achievedPerSec: Number((((times.length - 1) * 1000) / span).toFixed(1)) }
    }
    // The simulator's own stamps, for comparison, and whether a burst there came from sends made twice.
    const firstAt = new Map<string, number>()
    for (const r of sent) if (r.clientRef && !firstAt.has(r.clientRef)) firstAt.set(r.clientRef, r.at)
    const simBusiest = maxInWindow(sent.map((r) => r.at), 1000)
    const simBusiestFirstSends = maxInWindow([...firstAt.values()], 1000)
    // For a diagnosis: how long after the first send each second one went out (a lapsed lease ≈ WAGATE_LEASE_MS).
    const seenRefs = new Set<string>()
    const secondSendGapsMs: number[] = []
    for (const r of sent) {
      if (!r.clientRef) continue
      if (seenRefs.has(r.clientRef)) secondSendGapsMs.push(r.at - (firstAt.get(r.clientRef) ?? r.at))
      seenRefs.add(r.clientRef)
    }
    const sendsPerRef = countBy(sent.filter((r) => r.clientRef), (r) => r.clientRef as string)
    const sentTwice = Object.keys(sendsPerRef).filter((ref) => (sendsPerRef[ref] ?? 0) > 1)
    const proxyOutcomes = countBy(arrivals, (x) => (x.error ? `599 ${x.error}` : x.forwardedAgain ? `${x.status} forwarded again` : String(x.status)))
    const fastRate = rateOf(fast)
    const pacedRate = rateOf(paced)
    const reported = rows.reduce((sum, r) => sum + r.duplicate_risk, 0)
    report('two processes', {
      messages: ids.length,
      fast: { limit: RATE, ...fastRate },
      paced: { limit: PACED_RATE, ...pacedRate },
      proxyOutcomes,
      simulatorStamps: { busiestSecond: simBusiest, busiestSecondFirstSendsOnly: simBusiestFirstSends },
      simulatorDuplicates: duplicateRefs(sent),
      firstDuplicated: sentTwice.slice(0, 10),
      secondSendGapsMs: secondSendGapsMs.length > 0 ? { min: Math.min(...secondSendGapsMs), max: Math.max(...secondSendGapsMs), first: secondSendGapsMs.slice(0, 8) } : undefined,
      webhooks: { delivered: stats.webhooksDelivered, refusedAndRetried: stats.webhooksFailed },
      gatewayPossibleDuplicates: reported,
      sentByA,
      sentByB,
      slotsRebooked,
      acceptedMs,
      postsRetriedAfter503: retried.count,
      fastSentAfterStartMs: sentMs,
      pacedBurstMs: pacedMs,
      fastReadAfterStartMs: readMs,
      totalMs: Date.now() - started,
    })
    if (sentTwice.length > 0) {
      // For a diagnosis: the history of a few messages sent twice (a retry names its attempt and error).
      for (const id of sentTwice.slice(0, 3)) console.log(`[faults] sent twice: ${id}: ${JSON.stringify((await a.api('GET', `/v1/messages/${id}`)).json)}`)
    }
    if (duplicateRefs(sent) > 0 || reported > 0) console.log(`[faults] gateway-a:\n${logSummary(a.tail())}\n[faults] gateway-b:\n${logSummary(b.tail())}`)

    expect(rows).toHaveLength(ids.length)
    expect(new Set(rows.map((r) => r.id))).toEqual(new Set(ids))
    expect(countBy(rows, (r) => r.status)).toEqual({ read: ids.length })
    // None sent twice. (The gateway's own count of possible duplicates is reported above: a lease
    // that could not be renewed in time on a saturated database counts, even if nothing went twice.)
    expect(duplicateRefs(sent)).toBe(0)
    expect(stats.duplicates).toBe(0)
    expect(sent).toHaveLength(ids.length)
    expect(new Set(sent.map((s) => s.clientRef))).toEqual(new Set(ids))
    // Both processes did part of the sending.
    expect(sentByA + sentByB).toBe(ids.length)
    expect(Math.min(sentByA, sentByB)).toBeGreaterThan(ids.length * 0.05)
    expect(fastRate.busiestSecond).toBeLessThanOrEqual(Math.floor(RATE * 1.02))
    // 2% of 50 is one message, within the jitter of two processes' timers and sockets: allow two.
    expect(pacedRate.busiestSecond).toBeLessThanOrEqual(PACED_RATE + Math.max(2, Math.floor(PACED_RATE * 0.02)))
    // The paced limit was really reached (so the cap above was tested, not just never approached).
    expect(pacedRate.busiestSecond).toBeGreaterThanOrEqual(PACED_RATE * 0.9)
  }, 900_000)
})
