import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { metaSandbox } from '../../src/sandbox.js'
import { startCaptureServer, type CaptureServer } from '../harness/capture-server.js'
import { startTestGateway, type TestGateway } from '../harness/gateway.js'
import { header, inbound, verifies } from './helpers.js'

// Immediately, then 400 ms between retries (shrunk from 5 s … 10 h): eight retries, nine attempts.
const SCHEDULE = '0,400,400,400,400,400,400,400'
/** The receiver is down for the first attempt and the first five retry intervals of each event. */
const FAILING_ATTEMPTS = 6

describe('events out: a subscriber down across a gateway restart loses nothing', () => {
  const saved = process.env.WAGATE_DELIVERY_SCHEDULE_MS
  const dir = mkdtempSync(join(tmpdir(), 'wagate-events-'))
  const env = { WAGATE_DATA_DIR: dir, WAGATE_SECRET_KEY: randomBytes(32).toString('hex') }
  let receiver: CaptureServer
  let t: TestGateway | undefined

  beforeAll(async () => {
    process.env.WAGATE_DELIVERY_SCHEDULE_MS = SCHEDULE
    receiver = await startCaptureServer((req) => {
      const id = header(req, 'webhook-id')
      const earlier = receiver.requests.filter((r) => header(r, 'webhook-id') === id).length - 1
      return earlier < FAILING_ATTEMPTS ? { status: 503, body: 'down' } : { status: 204 }
    })
  })
  afterAll(async () => {
    await t?.close()
    await receiver.close()
    rmSync(dir, { recursive: true, force: true })
    if (saved === undefined) delete process.env.WAGATE_DELIVERY_SCHEDULE_MS
    else process.env.WAGATE_DELIVERY_SCHEDULE_MS = saved
  })

  const attemptsOf = (id: string) => receiver.requests.filter((r) => header(r, 'webhook-id') === id)

  it('every event reaches the subscriber once it recovers, signed, with the gateway restarted in between', async () => {
    const first = await startTestGateway({ env, sandboxes: (timings) => [metaSandbox(timings)] })
    t = first
    const created = await first.api('POST', '/v1/subscriptions', { url: `${receiver.url}/in`, topics: ['incoming.>'] })
    expect(created.status).toBe(201)
    const { id: subId, secret } = created.json as { id: string; secret: string }
    const events = [await inbound(first, 'before restart 1'), await inbound(first, 'before restart 2'), await inbound(first, 'before restart 3')]
    await first.waitFor(async () => events.every((e) => attemptsOf(e.id).length >= 2), 20_000, 'a couple of failed attempts each')
    await first.close()
    t = undefined
    // The restart really falls inside the outage: no event got through before it.
    for (const e of events) expect(attemptsOf(e.id).length).toBeLessThan(FAILING_ATTEMPTS)

    const second = await startTestGateway({ env, sandboxes: (timings) => [metaSandbox(timings)] })
    t = second
    const sub = await second.api('GET', `/v1/subscriptions/${subId}`)
    expect(sub.json).toMatchObject({ id: subId, state: 'active' })
    // One more event after the restart, still during the outage for it.
    events.push(await inbound(second, 'after restart'))

    const delivered = async () => {
      const r = await second.api('GET', `/v1/subscriptions/${subId}/deliveries?state=delivered&limit=200`)
      const done = r.json.data.filter((d: { event_id: string }) => events.some((e) => e.id === d.event_id))
      return done.length === events.length
    }
    await second.waitFor(delivered, 30_000, 'every event delivered')
    for (const e of events) {
      const attempts = attemptsOf(e.id)
      // Down for the first six attempts, then one success: exactly one delivery made it, no extra.
      expect(attempts).toHaveLength(FAILING_ATTEMPTS + 1)
      for (const r of attempts) expect(verifies(secret, r)).toBe(true)
      expect((attempts.at(-1)?.json as { id: string }).id).toBe(e.id)
    }
    const deliveries = await second.api('GET', `/v1/subscriptions/${subId}/deliveries?limit=200`)
    const mine = deliveries.json.data.filter((d: { event_id: string }) => events.some((e) => e.id === d.event_id))
    expect(mine).toHaveLength(events.length)
    for (const d of mine) {
      expect(d).toMatchObject({ state: 'delivered', attempts: FAILING_ATTEMPTS + 1, last_status: 204 })
      expect(d.attempt_log.map((a: { status_code: number }) => a.status_code)).toEqual([...Array(FAILING_ATTEMPTS).fill(503), 204])
    }
    expect((await second.api('GET', `/v1/subscriptions/${subId}`)).json.state).toBe('active')
  })
})
