import { request } from 'undici'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { DEMO_APP, postForm, sendSession, startRig, type Rig } from './testing.js'

let rig: Rig
beforeEach(async () => {
  rig = await startRig()
})
afterEach(async () => {
  await rig.close()
})

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  const res = await request(`${rig.sim.url}${path}`, {
    method: method as 'GET',
    headers: { 'content-type': 'application/json' },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  })
  return { status: res.statusCode, json: await res.body.json() }
}

describe('control routes', () => {
  it('POST /_sim/apps registers an app whose key then authenticates sends', async () => {
    const other = { appName: 'OtherApp', apiKey: 'other-key', sourceNumber: '15550001111', callbackUrl: `${rig.receiver.url}/webhooks/gupshup/other/t` }
    expect((await call('POST', '/_sim/apps', other)).status).toBe(201)
    const fields = { channel: 'whatsapp', source: '15550001111', destination: '919876543210', 'src.name': 'OtherApp', message: '{"type":"text","text":"x"}' }
    expect((await postForm(`${rig.sim.url}/wa/api/v1/msg`, fields, 'other-key')).status).toBe(202)
    // The demo app's key does not open the other app.
    expect((await postForm(`${rig.sim.url}/wa/api/v1/msg`, fields, DEMO_APP.apiKey)).json).toEqual({ message: 'Invalid App Details', status: 'error' })
    await rig.sim.idle(2000)
    expect(rig.receiver.requests.some((r) => r.path === '/webhooks/gupshup/other/t')).toBe(true)
    expect((await call('POST', '/_sim/apps', { appName: 'x' })).status).toBe(400)
  })

  it('POST /_sim/inbound makes a contact write to the account', async () => {
    const answer = await call('POST', '/_sim/inbound', { account: DEMO_APP.appName, from: '+919876543210', text: 'from control' })
    expect(answer.status).toBe(200)
    await rig.sim.idle(2000)
    const cb = rig.callbacks()[0] as { payload: { id: string; payload: { text: string } } }
    expect(cb.payload.id).toBe((answer.json as { providerMessageId: string }).providerMessageId)
    expect(cb.payload.payload.text).toBe('from control')
    expect((await call('POST', '/_sim/inbound', { account: 'Nope', from: '919876543210', text: 'x' })).status).toBe(404)
    expect((await call('POST', '/_sim/inbound', { account: DEMO_APP.appName })).status).toBe(400)
  })

  it('PUT and DELETE /_sim/faults set and clear fault rules', async () => {
    expect((await call('PUT', '/_sim/faults', { rules: [{ kind: 'server_error' }] })).status).toBe(200)
    expect((await sendSession(rig, '919876543210', { type: 'text', text: 'x' })).status).toBe(500)
    expect((await call('PUT', '/_sim/faults', [{ kind: 'rate_limit' }])).status).toBe(200)
    expect((await sendSession(rig, '919876543210', { type: 'text', text: 'x' })).status).toBe(429)
    expect((await call('DELETE', '/_sim/faults')).status).toBe(200)
    expect((await sendSession(rig, '919876543210', { type: 'text', text: 'x' })).status).toBe(202)
    expect((await call('PUT', '/_sim/faults', [{ kind: 'meteor' }])).status).toBe(400)
  })

  it('GET /_sim/sent and /_sim/stats report accepted sends and counters', async () => {
    const answer = await sendSession(rig, '919876543210', { type: 'text', text: 'count me' })
    await postForm(`${rig.sim.url}/wa/api/v1/msg`, {}, 'bad-key')
    await rig.sim.idle(2000)
    const sent = await call('GET', '/_sim/sent')
    expect(sent.json).toEqual([expect.objectContaining({ providerMessageId: answer.json.messageId, account: DEMO_APP.appName, to: '919876543210', type: 'text' })])
    const stats = await call('GET', '/_sim/stats')
    expect(stats.json).toEqual({ requests: 2, sent: 1, faulted: 0, rejected: 1, duplicates: 0, webhooksDelivered: 4, webhooksFailed: 0 })
  })

  it('POST /_sim/opt-out posts the user-event', async () => {
    expect((await call('POST', '/_sim/opt-out', { account: DEMO_APP.appName, number: '919876543210' })).status).toBe(200)
    await rig.sim.idle(2000)
    expect(rig.callbacks()[0]).toMatchObject({ type: 'user-event', payload: { phone: '919876543210', type: 'opted-out' } })
    expect((await call('POST', '/_sim/opt-out', { account: 'Nope', number: '1' })).status).toBe(404)
  })

  it('answers unknown routes with 404 and does not count control calls as API requests', async () => {
    expect((await call('GET', '/_sim/nothing')).status).toBe(404)
    expect((await call('GET', '/wa/api/v2/whatever')).status).toBe(404)
    expect(rig.sim.stats().requests).toBe(0)
  })
})
