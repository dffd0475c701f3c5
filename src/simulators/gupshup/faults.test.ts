import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { DEMO_APP, eventsFor, postForm, sendSession, sessionFields, startRig, type Rig } from './testing.js'

const text = { type: 'text', text: 'hi' }

let rig: Rig
beforeEach(async () => {
  rig = await startRig()
})
afterEach(async () => {
  await rig.close()
})

describe('injected faults', () => {
  it('rate_limit and pair_rate_limit answer HTTP 429 Too Many Requests and send nothing', async () => {
    rig.sim.setFaults([{ kind: 'rate_limit', count: 1 }, { kind: 'pair_rate_limit', count: 1 }])
    const first = await sendSession(rig, '919876543210', text)
    const second = await sendSession(rig, '919876543210', text)
    const third = await sendSession(rig, '919876543210', text)
    expect(first).toEqual({ status: 429, json: { status: 'error', message: 'Too Many Requests' } })
    expect(second.status).toBe(429)
    expect(third.status).toBe(202) // both rules used up
    expect(rig.sim.stats()).toMatchObject({ faulted: 2, sent: 1, requests: 3 })
    expect(rig.sim.sent()).toHaveLength(1)
  })

  it('server_error answers HTTP 500 with an error body', async () => {
    rig.sim.setFaults([{ kind: 'server_error' }])
    const answer = await sendSession(rig, '919876543210', text)
    expect(answer.status).toBe(500)
    expect(answer.json).toMatchObject({ status: 'error' })
    rig.sim.clearFaults()
    expect((await sendSession(rig, '919876543210', text)).status).toBe(202)
  })

  it('timeout never answers', async () => {
    rig.sim.setFaults([{ kind: 'timeout' }])
    const started = Date.now()
    await expect(postForm(`${rig.sim.url}/wa/api/v1/msg`, sessionFields('919876543210', text), DEMO_APP.apiKey, 300)).rejects.toThrow()
    expect(Date.now() - started).toBeGreaterThanOrEqual(250)
    expect(rig.sim.sent()).toEqual([])
    expect(rig.sim.stats().faulted).toBe(1)
  })

  it('slow answers correctly after delayMs', async () => {
    rig.sim.setFaults([{ kind: 'slow', delayMs: 200 }])
    const started = Date.now()
    const answer = await sendSession(rig, '919876543210', text)
    expect(Date.now() - started).toBeGreaterThanOrEqual(190)
    expect(answer.json.status).toBe('submitted')
  })

  it('applies only to the listed recipients, compared on digits', async () => {
    rig.sim.setFaults([{ kind: 'server_error', recipients: ['+91 98765 43210'] }])
    expect((await sendSession(rig, '919876543210', text)).status).toBe(500)
    expect((await sendSession(rig, '919876543211', text)).status).toBe(202)
  })

  it('not_on_whatsapp accepts the send and then fails it with 1002', async () => {
    rig.sim.setFaults([{ kind: 'not_on_whatsapp' }])
    const answer = await sendSession(rig, '919876543210', text)
    expect(answer.status).toBe(202)
    await rig.sim.idle(2000)
    const events = eventsFor(rig, String(answer.json.messageId))
    expect(events.map((e) => (e.payload as { type: string; payload: { code?: number } }).payload.code)).toEqual([1002])
  })

  it('probability draws from the seeded generator: the same seed gives the same outcomes', async () => {
    const outcomes = async (seed: number) => {
      const local = await startRig({ seed })
      local.sim.setFaults([{ kind: 'server_error', probability: 0.5 }])
      const statuses: number[] = []
      for (let i = 0; i < 12; i++) statuses.push((await sendSession(local, '919876543210', text)).status)
      await local.close()
      return statuses
    }
    const a = await outcomes(7)
    expect(await outcomes(7)).toEqual(a)
    expect(a).toContain(500)
    expect(a).toContain(202)
  })
})

describe('webhook delivery', () => {
  it('retries a callback the gateway refuses and counts both outcomes', async () => {
    let refusals = 1
    rig.receiver.respond(() => (refusals-- > 0 ? { status: 503 } : { status: 200 }))
    await rig.sim.optOut(DEMO_APP.appName, '919876543210')
    await rig.sim.idle(2000)
    expect(rig.receiver.requests).toHaveLength(2)
    expect(rig.receiver.requests[0]?.raw).toBe(rig.receiver.requests[1]?.raw)
    expect(rig.sim.stats()).toMatchObject({ webhooksFailed: 1, webhooksDelivered: 1 })
  })
})
