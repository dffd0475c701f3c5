import { afterEach, describe, expect, it } from 'vitest'
import { readFixtureJson } from '../../../test/harness/fixtures.js'
import { startCaptureServer } from '../../../test/harness/capture-server.js'
import type { CapturedRequest } from '../../../test/harness/capture-server.js'
import { basic, call, fetchToken, sendMessage, sendUrl, signatureIsValid, startRig, textTo, until, WEBHOOK_SECRET, type Rig } from './test-support.js'

let rig: Rig | undefined
afterEach(async () => {
  await rig?.close()
  rig = undefined
})

type Report = { status: string; message_id: string; reason?: { code: string; sub_code: string }; channel_identity: { identity: string } }
const reportOf = (hook: CapturedRequest) => (hook.json as { message_delivery_report: Report }).message_delivery_report
const reportsFor = (r: Rig, messageId: string) => r.hooks.requests.map(reportOf).filter((x) => x?.message_id === messageId)

async function sendOk(r: Rig, body: unknown): Promise<string> {
  const answer = await sendMessage(r, body, `Bearer ${await fetchToken(r)}`)
  expect(answer.status).toBe(200)
  return (answer.json as { message_id: string }).message_id
}

describe('accepted sends', () => {
  it('answers like send_response_sdk_fixture.json and records the send', async () => {
    rig = await startRig()
    const fixture = readFixtureJson<Record<string, unknown>>('sinch', 'send_response_sdk_fixture.json')
    const answer = await sendMessage(rig, textTo(rig, '+46712312312', { correlation_id: 'msg_1' }), `Bearer ${await fetchToken(rig)}`)
    expect(answer.status).toBe(200)
    const body = answer.json as { message_id: string; accepted_time: string }
    expect(Object.keys(body).sort()).toEqual(Object.keys(fixture).sort())
    expect(body.message_id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/)
    expect(Number.isNaN(Date.parse(body.accepted_time))).toBe(false)
    expect(rig.sim.sent()).toEqual([
      expect.objectContaining({ providerMessageId: body.message_id, account: rig.app.appId, to: '+46712312312', type: 'text', clientRef: 'msg_1' }),
    ])
  })

  it('posts QUEUED_ON_CHANNEL, DELIVERED, READ, each signed and echoing metadata and correlation_id', async () => {
    rig = await startRig()
    const id = await sendOk(rig, textTo(rig, '46712312312', { message_metadata: 'meta-1', correlation_id: 'corr-1' }))
    await rig.sim.idle()
    const hooks = rig.hooks.requests.filter((h) => reportOf(h)?.message_id === id)
    expect(hooks.map((h) => reportOf(h).status)).toEqual(['QUEUED_ON_CHANNEL', 'DELIVERED', 'READ'])
    for (const hook of hooks) {
      expect(hook.path).toBe('/webhooks/sinch/acc')
      expect(hook.headers['x-sinch-webhook-signature-algorithm']).toBe('HmacSHA256')
      expect(hook.headers['x-sinch-webhook-signature-timestamp']).toMatch(/^\d{10}$/)
      expect(signatureIsValid(hook, WEBHOOK_SECRET)).toBe(true)
      expect(signatureIsValid(hook, 'another-secret')).toBe(false)
      const json = hook.json as Record<string, unknown> & { message_delivery_report: Record<string, unknown> }
      expect(json).toMatchObject({ app_id: rig.app.appId, project_id: rig.app.projectId, correlation_id: 'corr-1', message_metadata: 'meta-1' })
      expect(json.message_delivery_report).toMatchObject({ metadata: 'meta-1', channel_identity: { channel: 'WHATSAPP', identity: '+46712312312' } })
      expect(json.message_delivery_report.reason).toBeUndefined()
      expect(json).not.toHaveProperty('trigger')
    }
    // Same key set as the documented WhatsApp READ receipt.
    const documented = readFixtureJson<{ message_delivery_report: Record<string, unknown> }>('sinch', 'delivery_read_whatsapp.json')
    for (const key of Object.keys(documented.message_delivery_report)) {
      expect(hooks[2]?.json).toHaveProperty(['message_delivery_report', key])
    }
    expect(rig.sim.stats().webhooksDelivered).toBe(3)
  })

  it('a number ending in 0000 is queued, then FAILED with RECIPIENT_NOT_REACHABLE', async () => {
    rig = await startRig()
    const id = await sendOk(rig, textTo(rig, '+15551230000'))
    await rig.sim.idle()
    const reports = reportsFor(rig, id)
    expect(reports.map((r) => r.status)).toEqual(['QUEUED_ON_CHANNEL', 'FAILED'])
    expect(reports[1]?.reason).toMatchObject({ code: 'RECIPIENT_NOT_REACHABLE', sub_code: 'UNSPECIFIED_SUB_CODE' })
  })

  it('second-stage problems are accepted, then FAILED without QUEUED_ON_CHANNEL', async () => {
    rig = await startRig()
    const id = await sendOk(rig, {
      ...textTo(rig, '46712312312'),
      message: { template_message: { channel_template: { WHATSAPP: { template_id: 'hello', language_code: 'en-US' } } } },
    })
    await rig.sim.idle()
    expect(reportsFor(rig, id).map((r) => [r.status, r.reason?.code])).toEqual([['FAILED', 'TEMPLATE_NON_EXISTING_LANGUAGE_OR_VERSION']])
  })

  it('sends to a contact_id learnt from an inbound message; an unknown one fails CONTACT_NOT_FOUND', async () => {
    rig = await startRig()
    await rig.sim.inbound(rig.app.appId, { from: '+46712312312', text: 'hi' })
    await rig.sim.idle()
    const contactId = (rig.hooks.requests[0]?.json as { message: { contact_id: string } }).message.contact_id
    const known = await sendOk(rig, { app_id: rig.app.appId, recipient: { contact_id: contactId }, message: { text_message: { text: 'yo' } } })
    const unknown = await sendOk(rig, { app_id: rig.app.appId, recipient: { contact_id: '01NOSUCHCONTACT00000000000' }, message: { text_message: { text: 'yo' } } })
    await rig.sim.idle()
    expect(reportsFor(rig, known).map((r) => r.status)).toEqual(['QUEUED_ON_CHANNEL', 'DELIVERED', 'READ'])
    expect(reportsFor(rig, unknown).map((r) => [r.status, r.reason?.code])).toEqual([['FAILED', 'CONTACT_NOT_FOUND']])
  })

  it('callback_url overrides the app webhook for delivery reports', async () => {
    rig = await startRig()
    const other = await startCaptureServer(() => ({ status: 200 }))
    try {
      await sendOk(rig, textTo(rig, '46712312312', { callback_url: `${other.url}/override` }))
      await rig.sim.idle()
      expect(other.requests.map((h) => h.path)).toEqual(['/override', '/override', '/override'])
      expect(rig.hooks.requests).toHaveLength(0)
    } finally {
      await other.close()
    }
  })

  it('counts a repeated correlation_id as a duplicate (message_metadata when no correlation_id)', async () => {
    rig = await startRig()
    await sendOk(rig, textTo(rig, '46712312312', { correlation_id: 'msg_A' }))
    await sendOk(rig, textTo(rig, '46712312312', { correlation_id: 'msg_A' }))
    await sendOk(rig, textTo(rig, '46712312312', { message_metadata: 'msg_B' }))
    await sendOk(rig, textTo(rig, '46712312312', { message_metadata: 'msg_B' }))
    await sendOk(rig, textTo(rig, '46712312312', { correlation_id: 'msg_C' }))
    expect(rig.sim.stats()).toMatchObject({ sent: 5, duplicates: 2 })
  })

  it('retries a webhook the gateway refuses and counts both outcomes', async () => {
    rig = await startRig()
    let refusals = 1
    rig.hooks.respond(() => (refusals-- > 0 ? { status: 500 } : { status: 200 }))
    await rig.sim.inbound(rig.app.appId, { from: '+46712312312', text: 'hi' })
    await rig.sim.idle()
    expect(rig.hooks.requests).toHaveLength(2)
    expect(rig.hooks.requests[0]?.raw).toBe(rig.hooks.requests[1]?.raw)
    expect(signatureIsValid(rig.hooks.requests[1] as CapturedRequest, WEBHOOK_SECRET)).toBe(true)
    expect(rig.sim.stats()).toMatchObject({ webhooksFailed: 1, webhooksDelivered: 1 })
  })
})

describe('shape refusals over HTTP', () => {
  it.each([
    ['invalid JSON', '{"app_id":'],
    ['no message content', JSON.stringify({ app_id: '01APPSIM000000000000000001', recipient: { contact_id: 'C' }, message: {} })],
    ['two message contents', JSON.stringify({ app_id: '01APPSIM000000000000000001', recipient: { contact_id: 'C' }, message: { text_message: { text: 'a' }, location_message: { title: 't', coordinates: { latitude: 1, longitude: 2 } } } })],
    ['an app of no project', JSON.stringify({ app_id: 'OTHER', recipient: { contact_id: 'C' }, message: { text_message: { text: 'a' } } })],
  ])('answers %s with 400 in the shape of the SDK error fixture', async (_name, body) => {
    rig = await startRig()
    const fixture = readFixtureJson<{ error: Record<string, unknown> }>('sinch', 'error_400_invalid_argument_sdk_fixture.json')
    const answer = await call(sendUrl(rig), { headers: { authorization: basic('key-id-1', 'key-secret-1'), 'content-type': 'application/json' }, body })
    expect(answer.status).toBe(400)
    const error = (answer.json as { error: Record<string, unknown> }).error
    expect(Object.keys(error).sort()).toEqual(Object.keys(fixture.error).sort())
    expect(error).toMatchObject({ code: fixture.error.code, status: fixture.error.status })
    expect(rig.sim.stats()).toMatchObject({ rejected: 1, sent: 0 })
    expect(rig.sim.sent()).toEqual([])
  })
})

describe('faults', () => {
  it.each(['rate_limit', 'pair_rate_limit'] as const)('%s answers 429 RESOURCE_EXHAUSTED with Retry-After, then recovers', async (kind) => {
    rig = await startRig()
    rig.sim.setFaults([{ kind, count: 1 }])
    const auth = basic('key-id-1', 'key-secret-1')
    const refused = await sendMessage(rig, textTo(rig, '46712312312'), auth)
    expect(refused.status).toBe(429)
    expect(refused.json).toMatchObject({ error: { code: 429, status: 'RESOURCE_EXHAUSTED' } })
    expect(refused.headers['retry-after']).toBeDefined()
    expect((await sendMessage(rig, textTo(rig, '46712312312'), auth)).status).toBe(200)
    expect(rig.sim.stats()).toMatchObject({ faulted: 1, sent: 1 })
  })

  it('server_error alternates 500 INTERNAL and 503 UNAVAILABLE', async () => {
    rig = await startRig()
    rig.sim.setFaults([{ kind: 'server_error', count: 2 }])
    const auth = basic('key-id-1', 'key-secret-1')
    const first = await sendMessage(rig, textTo(rig, '46712312312'), auth)
    const second = await sendMessage(rig, textTo(rig, '46712312312'), auth)
    expect([first.status, second.status]).toEqual([500, 503])
    expect(first.json).toMatchObject({ error: { status: 'INTERNAL' } })
    expect(second.json).toMatchObject({ error: { status: 'UNAVAILABLE' } })
    expect(rig.sim.sent()).toEqual([])
  })

  it('timeout never answers; slow answers after the delay', async () => {
    rig = await startRig()
    const auth = basic('key-id-1', 'key-secret-1')
    rig.sim.setFaults([{ kind: 'timeout', count: 1 }])
    const controller = new AbortController()
    const hung = fetch(sendUrl(rig), { method: 'POST', headers: { authorization: auth, 'content-type': 'application/json' }, body: JSON.stringify(textTo(rig, '46712312312')), signal: controller.signal })
    const outcome = await Promise.race([hung.then(() => 'answered', () => 'failed'), new Promise((r) => setTimeout(() => r('pending'), 300))])
    expect(outcome).toBe('pending')
    controller.abort()
    await hung.catch(() => undefined)

    rig.sim.setFaults([{ kind: 'slow', delayMs: 250 }])
    const started = Date.now()
    const slow = await sendMessage(rig, textTo(rig, '46712312312'), auth)
    expect(slow.status).toBe(200)
    expect(Date.now() - started).toBeGreaterThanOrEqual(240)
    expect(rig.sim.stats()).toMatchObject({ faulted: 1, sent: 1 })
  })

  it('faults can target recipients; not_on_whatsapp fails the delivery', async () => {
    rig = await startRig()
    rig.sim.setFaults([{ kind: 'not_on_whatsapp', recipients: ['+46700000001'] }])
    const hit = await sendOk(rig, textTo(rig, '46700000001'))
    const miss = await sendOk(rig, textTo(rig, '46700000002'))
    await rig.sim.idle()
    expect(reportsFor(rig, hit).at(-1)).toMatchObject({ status: 'FAILED', reason: { code: 'RECIPIENT_NOT_REACHABLE' } })
    expect(reportsFor(rig, miss).at(-1)?.status).toBe('READ')
  })

  it('faults are set and cleared through the control routes', async () => {
    rig = await startRig()
    const put = await call(`${rig.sim.url}/_sim/faults`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify([{ kind: 'rate_limit' }]) })
    expect(put.status).toBe(204)
    const auth = basic('key-id-1', 'key-secret-1')
    expect((await sendMessage(rig, textTo(rig, '46712312312'), auth)).status).toBe(429)
    expect((await call(`${rig.sim.url}/_sim/faults`, { method: 'DELETE' })).status).toBe(204)
    expect((await sendMessage(rig, textTo(rig, '46712312312'), auth)).status).toBe(200)
    await until(() => rig !== undefined && rig.hooks.requests.length > 0)
  })
})
