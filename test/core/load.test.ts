import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Simulator } from '../../src/simulators/types.js'
import type { TestGateway } from '../harness/gateway.js'
import { startTimingProxy, type TimingProxy } from '../harness/timing-proxy.js'
import { allMessages, META, startMetaGateway } from './helpers.js'

/**
 * Acceptance under load: 1,000 messages through the Meta simulator all end `read`, none lost, none
 * sent twice; then again with the simulator failing 30% of send calls (15% HTTP 5xx, 15% 130429)
 * and the account limited to 200 msg/s: all still end `read`, and the rate limit holds.
 *
 * What is measured for the rate, for EVERY send call (accepted and faulted alike; the simulator
 * itself records only accepted sends):
 * - when the gateway's HTTP client created the request to the provider (undici's
 *   `undici:request:create` diagnostics channel, in this process, filtered to the provider's origin
 *   and the /messages path): the gateway's pacing decision. No 1,000 ms window may hold more than
 *   200 of them.
 * - when the call reached the provider: a pass-through on its own thread between the gateway and
 *   the simulator stamps each arrival. The gateway's socket write follows its decision by 30–700 ms
 *   here (the gateway, the simulator and this test share one busy event loop on a shared 2-core
 *   machine), which squeezes more than a second of requests into some seconds of arrivals: runs
 *   here saw 208–229 arrivals in the busiest second while the decisions stayed at 197. Arrivals are
 *   therefore held to 200 plus 25%, which catches a gross overrun, not a small one.
 * For each measured call, the calls in the 1,000 ms starting at it are counted; the maximum is the
 * busiest second.
 *
 * Last, a burst to one recipient that waits longer than the worker's lease must still go out once
 * per message and in order.
 */

const N = 1_000
// Distinct recipients (none ends in 0000, which the sandbox treats as not on WhatsApp).
const recipient = (i: number) => `+1415555${String(1001 + i).padStart(4, '0')}`

async function pool<T>(count: number, width: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array(count)
  let next = 0
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < count) {
        const i = next++
        out[i] = await task(i)
      }
    }),
  )
  return out
}

async function sendAll(t: TestGateway, tag: string): Promise<string[]> {
  return pool(N, 32, async (i) => {
    const res = await t.api('POST', '/v1/messages', { account: META, to: recipient(i), type: 'text', text: `${tag} ${i}` })
    if (res.status !== 202) throw new Error(`message ${i} refused: ${res.status} ${res.text}`)
    return res.json.id as string
  })
}

/**
 * Waits until every message is `read` (or fails the test on the first `failed`). Polls slowly: the
 * poll is work in the gateway's process and would disturb what is measured.
 */
async function waitAllRead(t: TestGateway, ids: string[], timeoutMs: number) {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const failed = await t.api('GET', '/v1/messages?direction=out&status=failed&limit=1')
    if (failed.json.data.length > 0) throw new Error(`a message failed: ${JSON.stringify(failed.json.data[0].error)}`)
    const notRead = await Promise.all(['queued', 'sending', 'sent', 'delivered'].map((s) => t.api('GET', `/v1/messages?direction=out&status=${s}&limit=1`)))
    if (notRead.every((r) => r.json.data.length === 0)) break
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${ids.length} messages to be read`)
    await new Promise((r) => setTimeout(r, 1_000))
  }
  const all = await allMessages(t, '&direction=out')
  expect(all).toHaveLength(ids.length)
  expect(new Set(all.map((m) => m.id))).toEqual(new Set(ids))
  expect(all.filter((m) => m.status !== 'read')).toEqual([])
}

function maxPerSecond(times: number[]): number {
  const sorted = [...times].sort((a, b) => a - b)
  let max = 0
  let j = 0
  for (let i = 0; i < sorted.length; i++) {
    while (j < sorted.length && (sorted[j] as number) < (sorted[i] as number) + 1000) j++
    max = Math.max(max, j - i)
  }
  return max
}

describe('load: 1,000 messages, clean provider', () => {
  let t: TestGateway
  let sim: Simulator
  beforeAll(async () => {
    // A send answered after the client gave up may have reached the provider: keep the timeout long
    // so that a slow, loaded machine does not turn into duplicate sends.
    t = await startMetaGateway({ env: { WAGATE_SEND_TIMEOUT_MS: '60000' } })
    sim = t.sandbox.simulators.get(t.sandbox.accounts[0]!.row.id)!
    const patched = await t.api('PATCH', `/v1/accounts/${META}`, { rate_limit: 1000 })
    expect(patched.status, patched.text).toBe(200)
  })
  afterAll(async () => t.close())

  it('all 1,000 end read; the provider got each exactly once', async () => {
    const ids = await sendAll(t, 'clean')
    expect(new Set(ids).size).toBe(N)
    await waitAllRead(t, ids, 60_000)
    const sent = sim.sent()
    expect(sent).toHaveLength(N)
    expect(new Set(sent.map((r) => r.clientRef))).toEqual(new Set(ids))
    expect(sim.stats().duplicates).toBe(0)
    await sim.idle(10_000)
    expect(sim.stats().webhooksFailed).toBe(0)
  }, 120_000)
})

describe('load: 1,000 messages, 30% faulted calls, rate limit 200/s', () => {
  let t: TestGateway
  let sim: Simulator
  let proxy: TimingProxy
  const created: number[] = []
  const onCreate = (message: unknown) => {
    const { request } = message as { request: { origin: string; path: string } }
    if (proxy && String(request.origin).startsWith(proxy.url) && request.path.endsWith('/messages')) created.push(Date.now())
  }
  beforeAll(async () => {
    t = await startMetaGateway({ env: { WAGATE_RETRY_BASE_MS: '10', WAGATE_RETRY_MAX_MS: '200', WAGATE_MAX_ATTEMPTS: '30', WAGATE_SEND_TIMEOUT_MS: '60000' } })
    sim = t.sandbox.simulators.get(t.sandbox.accounts[0]!.row.id)!
    proxy = await startTimingProxy(sim.url)
    subscribe('undici:request:create', onCreate)
    const patched = await t.api('PATCH', `/v1/accounts/${META}`, { rate_limit: 200, config: { base_url: proxy.url } })
    expect(patched.status, patched.text).toBe(200)
    sim.setFaults([
      { kind: 'server_error', probability: 0.15 },
      { kind: 'rate_limit', probability: 0.15 },
    ])
  })
  afterAll(async () => {
    unsubscribe('undici:request:create', onCreate)
    await t.close()
    await proxy.close()
  })

  it('all 1,000 still end read, none sent twice, and the 200/s limit holds over every call, faulted ones too', async () => {
    const ids = await sendAll(t, 'faulty')
    await waitAllRead(t, ids, 60_000)

    const stats = sim.stats()
    // The faults really happened (about 30% of calls), and were retried to success.
    expect(stats.faulted).toBeGreaterThan(N * 0.2)
    const sent = sim.sent()
    expect(sent).toHaveLength(N)
    expect(new Set(sent.map((r) => r.clientRef))).toEqual(new Set(ids))
    expect(stats.duplicates).toBe(0)

    const arrivals = (await proxy.arrivals()).filter((c) => c.path.endsWith('/messages'))
    expect(arrivals).toHaveLength(N + stats.faulted)
    expect(arrivals.filter((c) => c.status === 200)).toHaveLength(N)
    expect(created).toHaveLength(N + stats.faulted)
    const decided = maxPerSecond(created)
    const arrived = maxPerSecond(arrivals.map((c) => c.at))
    console.info(`busiest second: ${decided} requests created by the gateway, ${arrived} arrivals at the provider (limit 200; ${arrivals.length} calls)`)
    expect(decided).toBeLessThanOrEqual(200)
    expect(arrived).toBeLessThanOrEqual(250)
  }, 150_000)
})

describe('a burst to one recipient that outlasts the worker lease', () => {
  let t: TestGateway
  let sim: Simulator
  beforeAll(async () => {
    // Leases of 1 s, and a provider taking 300 ms per send: the tenth message of the burst waits ~3 s
    // in its recipient's queue, three leases long.
    t = await startMetaGateway({ env: { WAGATE_LEASE_MS: '1000', WAGATE_SEND_TIMEOUT_MS: '10000' } })
    sim = t.sandbox.simulators.get(t.sandbox.accounts[0]!.row.id)!
    sim.setFaults([{ kind: 'slow', delayMs: 300 }])
  })
  afterAll(async () => t.close())

  it('every message is sent once, in the order accepted, and ends read', async () => {
    const ids: string[] = []
    for (let i = 0; i < 10; i++) {
      const res = await t.api('POST', '/v1/messages', { account: META, to: '+14155550123', type: 'text', text: `burst ${i}` })
      expect(res.status).toBe(202)
      ids.push(res.json.id)
    }
    await waitAllRead(t, ids, 30_000)
    // Nothing still waiting to go out again.
    await new Promise((r) => setTimeout(r, 1_500))
    expect(sim.sent().map((r) => r.clientRef)).toEqual(ids)
    expect(sim.stats().duplicates).toBe(0)
    expect(t.gw.worker.stats().inflight).toBe(0)
  }, 60_000)
})
