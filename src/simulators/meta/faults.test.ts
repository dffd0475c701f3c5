import { request } from 'undici'
import { afterEach, describe, expect, it } from 'vitest'
import { readFixtureJson } from '../../../test/harness/fixtures.js'
import { PHONE_ID, TOKEN, startRig, statusesReceived, textTo, type Rig } from './test-kit.js'

let rig: Rig
afterEach(async () => {
  await rig.close()
})

const errorOf = (json: unknown) => (json as { error: Record<string, unknown> }).error

describe('injected faults (sends only)', () => {
  it('rate_limit: HTTP 429 in the exact shape of the 130429 fixture, with a new fbtrace_id', async () => {
    rig = await startRig()
    rig.sim.setFaults([{ kind: 'rate_limit', count: 1 }])
    const res = await rig.send(textTo('16505551234'))
    expect(res.status).toBe(429)
    const fixture = readFixtureJson<{ error: Record<string, unknown> }>('meta', 'send-error-130429-rate-limit.json')
    const { fbtrace_id: fixtureTrace, ...expected } = fixture.error
    const { fbtrace_id: trace, ...actual } = errorOf(res.json)
    expect(actual).toEqual(expected)
    expect(Object.keys(errorOf(res.json))).toEqual(Object.keys(fixture.error))
    expect(trace).toMatch(/^[A-Za-z0-9_-]{10,}$/)
    expect(trace).not.toBe(fixtureTrace)
    // count: 1 → the next send goes through
    expect((await rig.send(textTo('16505551234'))).status).toBe(200)
    expect(rig.sim.stats()).toMatchObject({ faulted: 1, sent: 1 })
    expect(rig.sim.sent()).toHaveLength(1)
  })

  it('pair_rate_limit: HTTP 400 with code 131056 for the named recipient only', async () => {
    rig = await startRig()
    rig.sim.setFaults([{ kind: 'pair_rate_limit', recipients: ['+16505551234'] }])
    const res = await rig.send(textTo('16505551234'))
    expect(res.status).toBe(400)
    expect(errorOf(res.json)).toMatchObject({
      message: '(#131056) (Business Account, Consumer Account) pair rate limit hit',
      code: 131056,
    })
    expect((await rig.send(textTo('16505559999'))).status).toBe(200)
    expect(rig.sim.stats()).toMatchObject({ faulted: 1, sent: 1 })
  })

  it('server_error: alternates a 500 with code 131000 and an empty 503', async () => {
    rig = await startRig()
    rig.sim.setFaults([{ kind: 'server_error', count: 2 }])
    const first = await rig.send(textTo('16505551234'))
    expect(first.status).toBe(500)
    expect(errorOf(first.json)).toMatchObject({ code: 131000, message: '(#131000) Something went wrong' })
    const second = await rig.send(textTo('16505551234'))
    expect(second.status).toBe(503)
    expect(second.text).toBe('')
    expect(rig.sim.stats()).toMatchObject({ faulted: 2, sent: 0 })
    await rig.sim.idle(1000)
    expect(rig.hooks.requests).toHaveLength(0)
  })

  it('timeout: never answers, and stop() releases the socket', async () => {
    rig = await startRig()
    rig.sim.setFaults([{ kind: 'timeout' }])
    const pending = request(`${rig.sim.url}/v25.0/${PHONE_ID}/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify(textTo('16505551234')),
    }).then(
      () => 'answered',
      () => 'socket closed',
    )
    const early = await Promise.race([pending, new Promise((r) => setTimeout(() => r('still waiting'), 150))])
    expect(early).toBe('still waiting')
    expect(rig.sim.stats()).toMatchObject({ faulted: 1, sent: 0 })
    const started = Date.now()
    await rig.sim.stop()
    expect(Date.now() - started).toBeLessThan(1000)
    expect(await pending).toBe('socket closed')
  })

  it('slow: answers normally after delayMs', async () => {
    rig = await startRig()
    rig.sim.setFaults([{ kind: 'slow', delayMs: 150, count: 1 }])
    const started = Date.now()
    const res = await rig.send(textTo('16505551234'))
    expect(Date.now() - started).toBeGreaterThanOrEqual(140)
    expect(res.status).toBe(200)
    expect(rig.sim.stats()).toMatchObject({ sent: 1, faulted: 0 })
  })

  it('not_on_whatsapp: accepted with a wamid, then a failed 131026 status', async () => {
    rig = await startRig()
    rig.sim.setFaults([{ kind: 'not_on_whatsapp' }])
    const res = await rig.send(textTo('16505551234'))
    expect(res.status).toBe(200)
    await rig.sim.idle(2000)
    const statuses = statusesReceived(rig.hooks)
    expect(statuses.map((s) => s.status)).toEqual(['failed'])
    expect((statuses[0]?.errors as Array<{ code: number }>)[0]?.code).toBe(131026)
  })

  it('does not apply to mark-as-read, nor to refused requests', async () => {
    rig = await startRig()
    rig.sim.setFaults([{ kind: 'rate_limit' }])
    const read = await rig.send({ messaging_product: 'whatsapp', status: 'read', message_id: 'wamid.X' })
    expect(read.status).toBe(200)
    const bad = await rig.send({ messaging_product: 'whatsapp', to: '16505551234', type: 'text', text: {} })
    expect(bad.status).toBe(400)
    expect(rig.sim.stats()).toMatchObject({ faulted: 0, rejected: 1 })
    rig.sim.clearFaults()
    expect((await rig.send(textTo('16505551234'))).status).toBe(200)
  })

  it('is deterministic for a seed', async () => {
    const outcomes: string[] = []
    for (let run = 0; run < 2; run++) {
      rig = await startRig({ seed: 7 })
      rig.sim.setFaults([{ kind: 'rate_limit', probability: 0.5 }])
      const statuses: number[] = []
      for (let i = 0; i < 12; i++) statuses.push((await rig.send(textTo('16505551234'))).status)
      outcomes.push(statuses.join(','))
      expect(statuses).toContain(429)
      expect(statuses).toContain(200)
      await rig.close()
    }
    expect(outcomes[0]).toBe(outcomes[1])
    rig = await startRig()
  })
})
