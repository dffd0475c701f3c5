import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startCaptureServer, type CaptureServer } from '../../../test/harness/capture-server.js'
import { createTwilioSimulator, type TwilioSimulator } from './simulator.js'
import { ACCOUNT } from './test-support.js'

let sim: TwilioSimulator
let receiver: CaptureServer
beforeAll(async () => {
  receiver = await startCaptureServer(() => ({ status: 200 }))
  sim = createTwilioSimulator()
  await sim.start()
})
afterAll(async () => {
  await sim.stop()
  await receiver.close()
})

const control = (method: string, path: string, body?: unknown) =>
  fetch(`${sim.url}${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })

const sendSms = () =>
  fetch(`${sim.url}/2010-04-01/Accounts/${ACCOUNT.accountSid}/Messages.json`, {
    method: 'POST',
    headers: {
      authorization: 'Basic ' + Buffer.from(`${ACCOUNT.accountSid}:${ACCOUNT.authToken}`).toString('base64'),
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ To: '+31612345678', From: '+14155238886', Body: 'c' }),
  })

describe('/_sim control routes', () => {
  it('adds an account, which can then send', async () => {
    expect((await sendSms()).status).toBe(401)
    const res = await control('POST', '/_sim/accounts', { ...ACCOUNT, inboundWebhookUrl: `${receiver.url}/in` })
    expect(res.status).toBe(201)
    expect((await sendSms()).status).toBe(201)
  })

  it('refuses a malformed account', async () => {
    const res = await control('POST', '/_sim/accounts', { accountSid: 'nope' })
    expect(res.status).toBe(400)
  })

  it('sets and clears faults', async () => {
    expect((await control('PUT', '/_sim/faults', [{ kind: 'server_error' }])).status).toBe(200)
    expect((await sendSms()).status).toBe(500)
    expect((await control('DELETE', '/_sim/faults')).status).toBe(200)
    expect((await sendSms()).status).toBe(201)
    expect((await control('PUT', '/_sim/faults', [{ kind: 'explode' }])).status).toBe(400)
  })

  it('makes a contact write in', async () => {
    const res = await control('POST', '/_sim/inbound', { account: '+14155238886', from: '+31612345678', text: 'via http' })
    expect(res.status).toBe(202)
    const { providerMessageId } = (await res.json()) as { providerMessageId: string }
    await sim.idle(2000)
    const hook = receiver.requests.find((r) => r.form?.get('MessageSid') === providerMessageId)
    expect(hook?.form?.get('Body')).toBe('via http')
    expect((await control('POST', '/_sim/inbound', { account: '+19999999999', from: '+1', text: 'x' })).status).toBe(404)
  })

  it('reports sent records and stats', async () => {
    const sent = (await (await control('GET', '/_sim/sent')).json()) as Array<{ account: string; to: string }>
    expect(sent.length).toBeGreaterThanOrEqual(2)
    expect(sent[0]).toMatchObject({ account: '+14155238886', to: '+31612345678', type: 'text' })
    const stats = (await (await control('GET', '/_sim/stats')).json()) as Record<string, number>
    expect(stats).toMatchObject({ sent: sent.length, faulted: 1 })
    expect(stats.rejected).toBeGreaterThanOrEqual(1)
  })
})
