import twilio from 'twilio'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { startCaptureServer, type CaptureServer } from '../../../test/harness/capture-server.js'
import { readFixture, readFixtureJson } from '../../../test/harness/fixtures.js'
import { createTwilioSimulator, type TwilioSimulator } from './simulator.js'
import { ACCOUNT, formObject, twilioClientFor, waitFor } from './test-support.js'

const SID_34 = /^SM[0-9a-f]{32}$/
let sim: TwilioSimulator
let receiver: CaptureServer

beforeAll(async () => {
  receiver = await startCaptureServer(() => ({ status: 200, body: '' }))
  sim = createTwilioSimulator({ accounts: [ACCOUNT], timings: { sentMs: 10, deliveredMs: 25, readMs: 40 } })
  await sim.start()
})
afterAll(async () => {
  await sim.stop()
  await receiver.close()
})
beforeEach(() => {
  receiver.requests.length = 0
})

const arrivals = (sid: string) => receiver.requests.filter((r) => r.form?.get('MessageSid') === sid)
const STATUS_RANK = ['accepted', 'queued', 'sent', 'delivered', 'read', 'failed']
/** Callbacks may overtake each other on a loaded machine: compare them in lifecycle order. */
const byLifecycle = (a: URLSearchParams | undefined, b: URLSearchParams | undefined) =>
  STATUS_RANK.indexOf(a?.get('MessageStatus') ?? '') - STATUS_RANK.indexOf(b?.get('MessageStatus') ?? '')
const callbacksFor = (sid: string) => arrivals(sid).sort((a, b) => byLifecycle(a.form, b.form))

describe('sending with the official twilio client', () => {
  it('creates a WhatsApp message and answers 201 with the Message resource shape', async () => {
    const client = twilioClientFor(sim.url, ACCOUNT.accountSid, ACCOUNT.authToken)
    const message = await client.messages.create({
      to: 'whatsapp:+31612345678',
      from: 'whatsapp:+14155238886',
      body: 'Hello! 👍',
      statusCallback: `${receiver.url}/status?wagate_id=msg_1`,
    })
    expect(message.sid).toMatch(SID_34)
    expect(message.status).toBe('queued')
    expect(message.accountSid).toBe(ACCOUNT.accountSid)
    expect(message.to).toBe('whatsapp:+31612345678')
    expect(message.from).toBe('whatsapp:+14155238886')
    expect(message.body).toBe('Hello! 👍')
    expect(message.direction).toBe('outbound-api')
    expect(message.errorCode).toBeNull()
    expect(message.dateCreated).toBeInstanceOf(Date)
    expect(message.uri).toBe(`/2010-04-01/Accounts/${ACCOUNT.accountSid}/Messages/${message.sid}.json`)
    await sim.idle(2000)
  })

  it('answers with the same keys as the documented 201 example', async () => {
    const fixture = readFixtureJson<Record<string, unknown>>('twilio', 'send_response_201_queued.json')
    const res = await fetch(`${sim.url}/2010-04-01/Accounts/${ACCOUNT.accountSid}/Messages.json`, {
      method: 'POST',
      headers: {
        authorization: 'Basic ' + Buffer.from(`${ACCOUNT.accountSid}:${ACCOUNT.authToken}`).toString('base64'),
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ To: '+31612345678', From: '+14155238886', Body: 'sms' }),
    })
    expect(res.status).toBe(201)
    const json = (await res.json()) as Record<string, unknown>
    expect(Object.keys(json).sort()).toEqual(Object.keys(fixture).sort())
    expect(json.num_media).toBe('0')
    expect(json.date_created).toMatch(/^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} \+0000$/)
  })

  it('accepts an API key with the account SID in the path', async () => {
    const key = ACCOUNT.apiKeys?.[0]
    if (!key) throw new Error('fixture account has an API key')
    const client = twilioClientFor(sim.url, key.sid, key.secret, ACCOUNT.accountSid)
    const message = await client.messages.create({ to: 'whatsapp:+31612345678', from: 'whatsapp:+14155238886', body: 'k' })
    expect(message.sid).toMatch(SID_34)
  })

  it('refuses a wrong auth token with 401 / 20003', async () => {
    const client = twilioClientFor(sim.url, ACCOUNT.accountSid, 'wrong-token')
    const error = await client.messages
      .create({ to: 'whatsapp:+31612345678', from: 'whatsapp:+14155238886', body: 'x' })
      .then(() => undefined, (e: unknown) => e)
    expect(error).toBeInstanceOf(twilio.RestException)
    expect(error).toMatchObject({ status: 401, code: 20003, moreInfo: 'https://www.twilio.com/docs/errors/20003' })
  })

  it('refuses an API key used against another account SID', async () => {
    const key = ACCOUNT.apiKeys?.[0]
    if (!key) throw new Error('fixture account has an API key')
    const client = twilioClientFor(sim.url, key.sid, key.secret, 'AC' + 'f'.repeat(32))
    const error = await client.messages.create({ to: '+31612345678', from: '+14155238886', body: 'x' }).catch((e: unknown) => e)
    expect(error).toMatchObject({ status: 401, code: 20003 })
  })
})

describe('status callbacks', () => {
  it('posts sent → delivered → read for WhatsApp, each signed so validateRequest accepts it', async () => {
    const client = twilioClientFor(sim.url, ACCOUNT.accountSid, ACCOUNT.authToken)
    const callbackUrl = `${receiver.url}/webhooks/twilio/main?wagate_id=msg_cb`
    const message = await client.messages.create({
      to: 'whatsapp:+31612345678',
      from: 'whatsapp:+14155238886',
      body: 'hi',
      statusCallback: callbackUrl,
    })
    await sim.idle(2000)
    const callbacks = callbacksFor(message.sid)
    expect(callbacks.map((c) => c.form?.get('MessageStatus'))).toEqual(['sent', 'delivered', 'read'])
    for (const cb of callbacks) {
      expect(cb.path).toBe('/webhooks/twilio/main?wagate_id=msg_cb')
      expect(cb.headers['content-type']).toContain('application/x-www-form-urlencoded')
      const signature = String(cb.headers['x-twilio-signature'])
      expect(twilio.validateRequest(ACCOUNT.authToken, signature, callbackUrl, formObject(cb))).toBe(true)
      expect(twilio.validateRequest('another-token', signature, callbackUrl, formObject(cb))).toBe(false)
    }
    const [sent, delivered, read] = callbacks.map((c) => c.form)
    // Field set of the captured WhatsApp callbacks (fixtures status_sent.txt / status_delivered.txt).
    expect(Object.fromEntries(sent ?? [])).toMatchObject({
      SmsSid: message.sid,
      SmsStatus: 'sent',
      MessageSid: message.sid,
      AccountSid: ACCOUNT.accountSid,
      From: 'whatsapp:+14155238886',
      To: 'whatsapp:+31612345678',
      ChannelToAddress: '+31612345678',
      ChannelPrefix: 'whatsapp',
      StructuredMessage: 'false',
      ApiVersion: '2010-04-01',
    })
    expect(sent?.get('ChannelInstallSid')).toMatch(/^XE[0-9a-f]{32}$/)
    expect(sent?.has('ErrorCode')).toBe(false)
    const fixtureKeys = (file: string) => [...new URLSearchParams(readFixture('twilio', file).toString('utf8')).keys()]
    for (const key of fixtureKeys('status_sent.txt')) expect(sent?.has(key), key).toBe(true)
    for (const key of fixtureKeys('status_delivered.txt')) expect(delivered?.has(key), key).toBe(true)
    expect(delivered?.get('EventType')).toBe('DELIVERED')
    expect(read?.get('EventType')).toBe('READ')
  })

  it('fetches the message with its current status', async () => {
    const client = twilioClientFor(sim.url, ACCOUNT.accountSid, ACCOUNT.authToken)
    const created = await client.messages.create({ to: 'whatsapp:+31612345678', from: 'whatsapp:+14155238886', body: 'f' })
    await new Promise((r) => setTimeout(r, 60))
    const fetched = await client.messages(created.sid).fetch()
    expect(fetched.status).toBe('read')
  })

  it('posts only sent → delivered for SMS, with RawDlrDoneDate and no WhatsApp fields', async () => {
    const client = twilioClientFor(sim.url, ACCOUNT.accountSid, ACCOUNT.authToken)
    const message = await client.messages.create({
      to: '+31612345678',
      from: '+14155550100',
      body: 'sms',
      statusCallback: `${receiver.url}/sms`,
    })
    await sim.idle(2000)
    const callbacks = callbacksFor(message.sid)
    expect(callbacks.map((c) => c.form?.get('MessageStatus'))).toEqual(['sent', 'delivered'])
    expect(callbacks[1]?.form?.get('RawDlrDoneDate')).toMatch(/^\d{10}$/)
    expect(callbacks[0]?.form?.has('ChannelPrefix')).toBe(false)
  })

  it('starts a Messaging Service send as accepted with from null, then posts queued first', async () => {
    const client = twilioClientFor(sim.url, ACCOUNT.accountSid, ACCOUNT.authToken)
    const service = 'MG' + 'c3'.repeat(16)
    const message = await client.messages.create({
      to: 'whatsapp:+31612345678',
      messagingServiceSid: service,
      contentSid: 'HX' + 'd4'.repeat(16),
      contentVariables: JSON.stringify({ 1: 'Ana' }),
      statusCallback: `${receiver.url}/mg`,
    })
    expect(message.status).toBe('accepted')
    expect(message.from).toBeNull()
    expect(message.messagingServiceSid).toBe(service)
    await sim.idle(2000)
    const callbacks = callbacksFor(message.sid)
    expect(callbacks.map((c) => c.form?.get('MessageStatus'))).toEqual(['queued', 'sent', 'delivered', 'read'])
    expect(callbacks[0]?.form?.get('MessagingServiceSid')).toBe(service)
    expect(callbacks[1]?.form?.get('From')).toBe('whatsapp:+14155238886')
    const record = sim.sent().find((r) => r.providerMessageId === message.sid)
    expect(record).toMatchObject({ account: '+14155238886', type: 'template', to: 'whatsapp:+31612345678' })
  })

  it('retries a callback the receiver refuses', async () => {
    const flaky = await startCaptureServer(() => ({ status: 200 }))
    let calls = 0
    flaky.respond(() => ({ status: ++calls === 1 ? 503 : 200 }))
    const local = createTwilioSimulator({
      accounts: [ACCOUNT],
      timings: { sentMs: 5, deliveredMs: 10, readMs: 15 },
      webhookRetryDelaysMs: [20],
    })
    await local.start()
    try {
      const client = twilioClientFor(local.url, ACCOUNT.accountSid, ACCOUNT.authToken)
      await client.messages.create({ to: '+31612345678', from: '+14155550100', body: 'r', statusCallback: `${flaky.url}/s` })
      await waitFor(() => local.stats().webhooksDelivered === 2)
      await local.idle(2000)
      expect(local.stats()).toMatchObject({ webhooksFailed: 1, webhooksDelivered: 2 })
      expect(flaky.requests).toHaveLength(3)
    } finally {
      await local.stop()
      await flaky.close()
    }
  })
})

describe('shuffleStatuses', () => {
  it('posts every status once but not always in order', async () => {
    const local = createTwilioSimulator({
      accounts: [ACCOUNT],
      seed: 7,
      shuffleStatuses: true,
      timings: { sentMs: 5, deliveredMs: 25, readMs: 45 },
    })
    await local.start()
    try {
      const client = twilioClientFor(local.url, ACCOUNT.accountSid, ACCOUNT.authToken)
      const sids: string[] = []
      for (let i = 0; i < 6; i++) {
        const m = await client.messages.create({
          to: 'whatsapp:+31612345678',
          from: 'whatsapp:+14155238886',
          body: `s${i}`,
          statusCallback: `${receiver.url}/shuffle`,
        })
        sids.push(m.sid)
      }
      await local.idle(2000)
      const orders = sids.map((sid) => arrivals(sid).map((c) => c.form?.get('MessageStatus')).join(','))
      for (const order of orders) expect(order.split(',').sort()).toEqual(['delivered', 'read', 'sent'])
      expect(orders.some((order) => order !== 'sent,delivered,read')).toBe(true)
    } finally {
      await local.stop()
    }
  })
})
