import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { startCaptureServer, type CaptureServer } from '../../../test/harness/capture-server.js'
import { readFixtureJson } from '../../../test/harness/fixtures.js'
import { createTwilioSimulator, type TwilioSimulator } from './simulator.js'
import { ACCOUNT } from './test-support.js'

let sim: TwilioSimulator
let receiver: CaptureServer
beforeAll(async () => {
  receiver = await startCaptureServer(() => ({ status: 200 }))
  sim = createTwilioSimulator({ accounts: [ACCOUNT], timings: { sentMs: 5, deliveredMs: 10, readMs: 15 } })
  await sim.start()
})
afterAll(async () => {
  await sim.stop()
  await receiver.close()
})
beforeEach(() => {
  sim.clearFaults()
  receiver.requests.length = 0
})

const auth = 'Basic ' + Buffer.from(`${ACCOUNT.accountSid}:${ACCOUNT.authToken}`).toString('base64')

async function send(to: string, extra: Record<string, string> = {}, signal?: AbortSignal) {
  const channel = to.startsWith('whatsapp:') ? 'whatsapp:' : ''
  const res = await fetch(`${sim.url}/2010-04-01/Accounts/${ACCOUNT.accountSid}/Messages.json`, {
    method: 'POST',
    headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ To: to, From: `${channel}+14155238886`, Body: 'hi', ...extra }),
    ...(signal ? { signal } : {}),
  })
  return { status: res.status, json: (await res.json()) as Record<string, unknown> }
}

const STATUS_RANK = ['accepted', 'queued', 'sent', 'delivered', 'read', 'failed']
/** Callbacks may overtake each other on a loaded machine: compare them in lifecycle order. */
const byLifecycle = (a: URLSearchParams | undefined, b: URLSearchParams | undefined) =>
  STATUS_RANK.indexOf(a?.get('MessageStatus') ?? '') - STATUS_RANK.indexOf(b?.get('MessageStatus') ?? '')
const statusesOf = (sid: unknown) =>
  receiver.requests
    .filter((r) => r.form?.get('MessageSid') === sid)
    .map((r) => r.form)
    .sort(byLifecycle)

describe('injected faults', () => {
  it('rate_limit answers 429 with code 20429 (the request was not processed)', async () => {
    const fixture = readFixtureJson<Record<string, unknown>>('twilio', 'rest_error_429_20429.json')
    sim.setFaults([{ kind: 'rate_limit', count: 1 }])
    const before = sim.stats()
    const refused = await send('whatsapp:+31612345678')
    expect(refused.status).toBe(429)
    expect(refused.json).toMatchObject({ ...fixture, status: 429 })
    expect(sim.stats().faulted - before.faulted).toBe(1)
    expect(sim.stats().sent).toBe(before.sent)
    expect((await send('whatsapp:+31612345678')).status).toBe(201)
  })

  it('server_error answers 500 with a Twilio error body', async () => {
    sim.setFaults([{ kind: 'server_error' }])
    const { status, json } = await send('whatsapp:+31612345678')
    expect(status).toBe(500)
    expect(json).toMatchObject({ code: 20500, status: 500 })
  })

  it('pair_rate_limit is accepted, then fails with ErrorCode 63018 in a callback', async () => {
    sim.setFaults([{ kind: 'pair_rate_limit', recipients: ['31612345678'] }])
    const { status, json } = await send('whatsapp:+31612345678', { StatusCallback: `${receiver.url}/s?wagate_id=msg_pair` })
    expect(status).toBe(201)
    await sim.idle(2000)
    const callbacks = statusesOf(json.sid)
    expect(callbacks.map((f) => f?.get('MessageStatus'))).toEqual(['failed'])
    expect(callbacks[0]?.get('ErrorCode')).toBe('63018')
    // The retry the gateway is expected to make is not a duplicate.
    sim.clearFaults()
    await send('whatsapp:+31612345678', { StatusCallback: `${receiver.url}/s?wagate_id=msg_pair` })
    expect(sim.stats().duplicates).toBe(0)
  })

  it('only hits listed recipients', async () => {
    sim.setFaults([{ kind: 'server_error', recipients: ['+4915112345678'] }])
    expect((await send('whatsapp:+31612345678')).status).toBe(201)
    expect((await send('whatsapp:+4915112345678')).status).toBe(500)
  })

  it('timeout never answers', async () => {
    sim.setFaults([{ kind: 'timeout', count: 1 }])
    const error = await send('whatsapp:+31612345678', {}, AbortSignal.timeout(300)).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(Error)
    expect((error as Error).name).toBe('TimeoutError')
  })

  it('slow answers correctly after the delay', async () => {
    sim.setFaults([{ kind: 'slow', delayMs: 250 }])
    const started = Date.now()
    const { status } = await send('whatsapp:+31612345678')
    expect(status).toBe(201)
    expect(Date.now() - started).toBeGreaterThanOrEqual(240)
  })
})

describe('recipients not on WhatsApp', () => {
  it('accepts a number ending in 0000, then reports failed with ErrorCode 63003', async () => {
    const { status, json } = await send('whatsapp:+5511987650000', { StatusCallback: `${receiver.url}/s` })
    expect(status).toBe(201)
    expect(json.status).toBe('queued')
    await sim.idle(2000)
    const callbacks = statusesOf(json.sid)
    expect(callbacks).toHaveLength(1)
    expect(Object.fromEntries(callbacks[0] ?? [])).toMatchObject({
      MessageStatus: 'failed',
      ErrorCode: '63003',
      To: 'whatsapp:+5511987650000',
    })
    expect(callbacks[0]?.get('ChannelStatusMessage')).toBeTruthy()
  })

  it('delivers SMS to the same number', async () => {
    const { json } = await send('+5511987650000', { StatusCallback: `${receiver.url}/s` })
    await sim.idle(2000)
    expect(statusesOf(json.sid).map((f) => f?.get('MessageStatus'))).toEqual(['sent', 'delivered'])
  })

  it('the not_on_whatsapp fault does the same for any number', async () => {
    sim.setFaults([{ kind: 'not_on_whatsapp' }])
    const { json } = await send('whatsapp:+31612345678', { StatusCallback: `${receiver.url}/s` })
    await sim.idle(2000)
    expect(statusesOf(json.sid)[0]?.get('ErrorCode')).toBe('63003')
  })
})

describe('duplicate accounting', () => {
  it('counts a second accepted send with the same wagate_id as a duplicate', async () => {
    const local = createTwilioSimulator({ accounts: [ACCOUNT] })
    await local.start()
    try {
      const post = (id: string) =>
        fetch(`${local.url}/2010-04-01/Accounts/${ACCOUNT.accountSid}/Messages.json`, {
          method: 'POST',
          headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({
            To: '+31612345678',
            From: '+14155238886',
            Body: 'd',
            StatusCallback: `http://127.0.0.1:9/cb?wagate_id=${id}`,
          }),
        })
      await post('msg_a')
      await post('msg_b')
      await post('msg_a')
      expect(local.stats()).toMatchObject({ sent: 3, duplicates: 1 })
      expect(local.sent().map((r) => r.clientRef)).toEqual(['msg_a', 'msg_b', 'msg_a'])
    } finally {
      await local.stop()
    }
  })
})

describe('customer service window (enforceWindow)', () => {
  it('fails free-form with 63016 until the contact writes, templates always pass', async () => {
    const local = createTwilioSimulator({
      accounts: [{ ...ACCOUNT, inboundWebhookUrl: `${receiver.url}/inbound` }],
      enforceWindow: true,
      timings: { sentMs: 5, deliveredMs: 10, readMs: 15 },
    })
    await local.start()
    try {
      const post = async (extra: Record<string, string>) => {
        const res = await fetch(`${local.url}/2010-04-01/Accounts/${ACCOUNT.accountSid}/Messages.json`, {
          method: 'POST',
          headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({
            To: 'whatsapp:+5535987654321',
            From: 'whatsapp:+14155238886',
            StatusCallback: `${receiver.url}/w`,
            ...extra,
          }),
        })
        return ((await res.json()) as { sid: string }).sid
      }
      const freeForm = await post({ Body: 'hi' })
      const template = await post({ ContentSid: 'HX' + 'a'.repeat(32) })
      await local.idle(2000)
      expect(statusesOf(freeForm)[0]?.get('ErrorCode')).toBe('63016')
      expect(statusesOf(template).map((f) => f?.get('MessageStatus'))).toEqual(['sent', 'delivered', 'read'])
      await local.inbound('+14155238886', { from: '+5535987654321', text: 'hello' })
      const after = await post({ Body: 'now inside' })
      await local.idle(2000)
      expect(statusesOf(after).map((f) => f?.get('MessageStatus'))).toEqual(['sent', 'delivered', 'read'])
    } finally {
      await local.stop()
    }
  })
})
