import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  allOutbound,
  anyWithStatus,
  countBy,
  createMetaAccount,
  envNumber,
  report,
  recipient,
  sendMany,
  sharedSettings,
  sleep,
  startGatewayProcess,
  startSimulator,
  waitFor,
  type FaultAccount,
  type GatewayProcess,
  type SimulatorProcess,
} from './harness.js'

/**
 * Fault: the provider is down — every send call answers 5xx (a Graph 500 or a bare 503) or hangs
 * past the client timeout — for WAGATE_FAULT_OUTAGE_MS (default 30 s), then comes back. Messages
 * accepted before and during the outage are all delivered afterwards: none lost, none failed, each
 * accepted by the provider exactly once. A hung call may have reached the provider, so the gateway
 * counts it as a possible duplicate (`duplicate_risk`, `wagate_possible_duplicate_sends_total`);
 * this simulator records nothing for a hung call, so its duplicate count must be 0 and never more
 * than what the gateway reported.
 *
 * One gateway process on SQLite, the Meta simulator in its own process.
 */
const OUTAGE_MS = envNumber('WAGATE_FAULT_OUTAGE_MS', 30_000)
const BEFORE = 300
const DURING = 300
const AFTER = 100
const N = BEFORE + DURING + AFTER

describe('fault: provider down (5xx and timeouts), then back', () => {
  let dir = ''
  let sim: SimulatorProcess
  let gw: GatewayProcess
  let acct: FaultAccount

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wagate-fault-provider-'))
    sim = await startSimulator()
    gw = await startGatewayProcess({
      shared: sharedSettings(),
      dataDir: dir,
      env: {
        // A hung call is given up after 1 s; the schedule retries at most every 2 s, and far more
        // often than the outage needs, so no message runs out of attempts.
        WAGATE_SEND_TIMEOUT_MS: '1000',
        WAGATE_RETRY_BASE_MS: '200',
        WAGATE_RETRY_MAX_MS: '2000',
        WAGATE_MAX_ATTEMPTS: '100',
      },
    })
    acct = await createMetaAccount(gw, sim, { name: 'fault-provider', rateLimit: 400 })
  }, 90_000)

  afterAll(async () => {
    await gw?.stop()
    await sim?.stop()
    if (dir) rmSync(dir, { recursive: true, force: true })
  }, 60_000)

  it(`loses nothing through a ${OUTAGE_MS / 1000} s outage: all ${N} messages end read, each sent once`, async () => {
    const started = Date.now()
    const body = (offset: number) => (i: number) => ({ account: acct.name, to: recipient(offset + i), type: 'text', text: `outage ${offset + i}` })

    // Down first, then the first batch: it is leased and attempted during the outage.
    await sim.setFaults([
      { kind: 'server_error', probability: 0.5 },
      { kind: 'timeout', probability: 1 },
    ])
    const outageStart = Date.now()
    const before = await sendMany(gw, BEFORE, body(0))
    await sleep(OUTAGE_MS / 2)
    const during = await sendMany(gw, DURING, body(BEFORE))
    await sleep(Math.max(0, outageStart + OUTAGE_MS - Date.now()))
    const atRecovery = await sim.stats()
    await sim.clearFaults()
    const outageMs = Date.now() - outageStart

    // Nothing got through while down, the gateway kept trying, and nothing was given up.
    expect(atRecovery.sent).toBe(0)
    expect(atRecovery.faulted).toBeGreaterThan(BEFORE + DURING)
    expect(await anyWithStatus(gw, ['failed'])).toBe(false)

    const after = await sendMany(gw, AFTER, body(BEFORE + DURING))
    const ids = [...before, ...during, ...after]
    await waitFor(async () => !(await anyWithStatus(gw, ['queued', 'sending', 'sent', 'delivered', 'failed'])), 60_000, 'every message to leave the outbox and end', 1_000)

    const rows = await allOutbound(gw)
    const byStatus = countBy(rows, (r) => r.status)
    expect(rows).toHaveLength(N)
    expect(new Set(rows.map((r) => r.id))).toEqual(new Set(ids))
    expect(byStatus).toEqual({ read: N })
    // The first batch went through the whole outage: every one of those needed more than one attempt.
    const first = new Set(before)
    expect(rows.filter((r) => first.has(r.id) && r.attempts < 2)).toEqual([])

    // The provider's side: every message accepted exactly once, nothing unknown.
    const sent = await sim.sent()
    const stats = await sim.stats()
    expect(sent).toHaveLength(N)
    expect(new Set(sent.map((s) => s.clientRef))).toEqual(new Set(ids))
    expect(stats.duplicates).toBe(0)

    // What the gateway reports as possibly sent twice: one per hung call it gave up on; the
    // metric and the per-message counts agree, and cover what the provider really saw twice.
    const reported = rows.reduce((sum, r) => sum + r.duplicate_risk, 0)
    const metric = await gw.metric('wagate_possible_duplicate_sends_total')
    expect(metric).toBe(reported)
    expect(reported).toBeGreaterThan(0)
    expect(stats.duplicates).toBeLessThanOrEqual(reported)

    report('provider down', {
      outageMs,
      messages: N,
      faultedCalls: stats.faulted,
      attemptsMax: Math.max(...rows.map((r) => r.attempts)),
      gatewayPossibleDuplicates: reported,
      simulatorDuplicates: stats.duplicates,
      recoveredInMs: Date.now() - started - outageMs,
      totalMs: Date.now() - started,
    })
  }, OUTAGE_MS + 120_000)
})
