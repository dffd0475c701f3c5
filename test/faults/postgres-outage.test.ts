import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  allOutbound,
  anyWithStatus,
  countBy,
  createMetaAccount,
  DATABASE_URL,
  envNumber,
  recipient,
  report,
  sendMany,
  sharedSettings,
  sleep,
  startGatewayProcess,
  startSimulator,
  waitFor,
  type FaultAccount,
  type GatewayProcess,
  type HttpAnswer,
  type SimulatorProcess,
} from './harness.js'
import { assertRequired, createDatabase, postgresMissing, warnSkip, type TestDatabase } from './services.js'
import { startTcpProxy, type ProxyMode, type TcpProxy } from './tcp-proxy.js'

/**
 * Fault: the gateway loses PostgreSQL mid-run. A TCP proxy between them first cuts every
 * connection (and refuses new ones) for CUT_MS, then, after a recovery, blackholes them (open but
 * silent, like a network partition) for BLACKHOLE_MS. During each outage every API call must be
 * answered — within API_BOUND_MS, not a hang — with 503 and Retry-After. When the proxy passes
 * again the same process (no restart) accepts messages again and every message accepted before,
 * during or after the outages is delivered and read.
 */
const CUT_MS = envNumber('WAGATE_FAULT_PG_CUT_MS', 5_000)
const BLACKHOLE_MS = envNumber('WAGATE_FAULT_PG_BLACKHOLE_MS', 15_000)
// The store gives up on a silent connection after its statement timeout + 2 s (5 s by default); 1 s of margin.
const API_BOUND_MS = envNumber('WAGATE_FAULT_API_BOUND_MS', 6_000)
const BATCH = 200

warnSkip('the PostgreSQL outage test', postgresMissing)

interface Probe {
  what: string
  at: number
  status: number | 'no answer'
  retryAfter: string | undefined
  ms: number
  code?: string
}

describe.skipIf(Boolean(postgresMissing) && !process.env.WAGATE_TEST_REQUIRE_SERVICES)('fault: PostgreSQL connection dropped mid-run (TCP proxy: cut, then blackhole)', () => {
  let db: TestDatabase
  let proxy: TcpProxy
  let sim: SimulatorProcess
  let gw: GatewayProcess
  let acct: FaultAccount

  beforeAll(async () => {
    assertRequired(postgresMissing)
    db = await createDatabase()
    const target = new URL(DATABASE_URL)
    proxy = await startTcpProxy(target.hostname, Number(target.port || 5432))
    sim = await startSimulator()
    gw = await startGatewayProcess({ shared: sharedSettings(), databaseUrl: proxy.rewrite(db.url) })
    acct = await createMetaAccount(gw, sim, { name: 'fault-pg', rateLimit: 200 })
  }, 90_000)

  afterAll(async () => {
    await gw?.stop()
    await sim?.stop()
    await proxy?.close()
    await db?.drop()
  }, 60_000)

  const body = (i: number) => ({ account: acct.name, to: recipient(i), type: 'text', text: `pg outage ${i}` })

  /** API calls every 500 ms while the proxy is in `mode`; each bounded by API_BOUND_MS. */
  async function outage(mode: ProxyMode, durationMs: number, probes: Probe[], firstIndex: number): Promise<string[]> {
    const accepted: string[] = []
    proxy.set(mode)
    const end = Date.now() + durationMs
    let i = firstIndex
    const inFlight: Array<Promise<void>> = []
    const probe = (what: string, call: () => Promise<HttpAnswer>) =>
      inFlight.push(
        (async () => {
          const at = Date.now()
          try {
            const res = await call()
            const retryAfter = res.headers['retry-after']
            probes.push({ what: `${mode} ${what}`, at, status: res.status, retryAfter: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter, ms: res.ms, code: res.json?.code })
            if (res.status === 202) accepted.push(res.json.id as string)
          } catch {
            probes.push({ what: `${mode} ${what}`, at, status: 'no answer', retryAfter: undefined, ms: Date.now() - at })
          }
        })(),
      )
    while (Date.now() < end) {
      const n = i++
      probe('POST /v1/messages', () => gw.api('POST', '/v1/messages', body(n), { timeoutMs: API_BOUND_MS }))
      probe('GET /v1/messages', () => gw.api('GET', '/v1/messages?limit=5', undefined, { timeoutMs: API_BOUND_MS }))
      probe('GET /v1/accounts', () => gw.api('GET', `/v1/accounts/${acct.name}`, undefined, { timeoutMs: API_BOUND_MS }))
      await sleep(500)
    }
    await Promise.all(inFlight)
    proxy.set('pass')
    return accepted
  }

  it('answers 503 + Retry-After during the outages, recovers without a restart, delivers everything', async () => {
    const started = Date.now()
    const pid = gw.pid
    const ids = await sendMany(gw, BATCH, (i) => body(i))
    // Mid-run: some sent, most still queued.
    await waitFor(async () => (await sim.stats()).sent >= 20, 30_000, 'the first sends', 50)

    const probes: Probe[] = []
    ids.push(...(await outage('cut', CUT_MS, probes, 10_000)))
    const cutEnd = Date.now()
    await waitFor(async () => (await gw.api('POST', '/v1/messages', body(20_000), { timeoutMs: API_BOUND_MS })).status === 202, 30_000, 'the API to accept again after the cut', 250)
    const recoveredFromCutMs = Date.now() - cutEnd
    ids.push(...(await sendMany(gw, BATCH, (i) => body(BATCH + i))))

    ids.push(...(await outage('blackhole', BLACKHOLE_MS, probes, 30_000)))
    const blackholeEnd = Date.now()
    await waitFor(async () => (await gw.api('POST', '/v1/messages', body(40_000), { timeoutMs: API_BOUND_MS })).status === 202, 30_000, 'the API to accept again after the blackhole', 250)
    const recoveredFromBlackholeMs = Date.now() - blackholeEnd
    ids.push(...(await sendMany(gw, BATCH, (i) => body(2 * BATCH + i))))

    // Same process all along.
    expect(gw.running()).toBe(true)
    expect(gw.pid).toBe(pid)

    // During the outages: every call answered in time; what could not be served is a 503 with Retry-After.
    const bad = probes.filter((p) => p.status === 'no answer' || (p.status !== 202 && p.status !== 200 && (p.status !== 503 || !p.retryAfter)))
    expect(bad, JSON.stringify(bad.slice(0, 5))).toEqual([])
    const during = (mode: string) => probes.filter((p) => p.what.startsWith(mode))
    for (const mode of ['cut', 'blackhole']) {
      // The outage was real: the calls were refused.
      expect(during(mode).filter((p) => p.status === 503).length).toBeGreaterThan(during(mode).length / 2)
    }

    // Everything accepted is delivered once the database is back (the 20,000 / 40,000 probes too).
    await waitFor(async () => !(await anyWithStatus(gw, ['accepted', 'queued', 'sending', 'sent', 'delivered'])), 90_000, 'every message read', 1_000)
    const rows = await allOutbound(gw)
    const byId = new Set(rows.map((r) => r.id))
    expect(ids.filter((id) => !byId.has(id))).toEqual([])
    expect(countBy(rows, (r) => r.status)).toEqual({ read: rows.length })
    // A send the provider accepted while the database was unreachable is recorded once it is back,
    // not sent again; whatever did go out twice is reported by the gateway.
    const stats = await sim.stats()
    const reported = rows.reduce((sum, r) => sum + r.duplicate_risk, 0)
    expect(reported).toBeGreaterThanOrEqual(stats.duplicates)

    const slowest = (mode: string) => Math.max(...during(mode).map((p) => p.ms))
    report('postgres outage', {
      cutMs: CUT_MS,
      blackholeMs: BLACKHOLE_MS,
      probes: probes.length,
      statuses: countBy(probes, (p) => `${p.what.split(' ')[0]} ${p.status}`),
      slowestAnswerMs: { cut: slowest('cut'), blackhole: slowest('blackhole') },
      recoveredFromCutMs,
      recoveredFromBlackholeMs,
      messages: rows.length,
      simulatorDuplicates: stats.duplicates,
      gatewayPossibleDuplicates: reported,
      proxy: proxy.counts(),
      totalMs: Date.now() - started,
    })
  }, 180_000)
})
