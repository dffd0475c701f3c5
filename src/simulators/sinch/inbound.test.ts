import { afterEach, describe, expect, it } from 'vitest'
import { readFixtureJson } from '../../../test/harness/fixtures.js'
import type { CapturedRequest } from '../../../test/harness/capture-server.js'
import { whatsappIdentity } from './identity.js'
import { basic, call, sendMessage, signatureIsValid, startRig, textTo, WEBHOOK_SECRET, type Rig } from './test-support.js'

let rig: Rig | undefined
afterEach(async () => {
  await rig?.close()
  rig = undefined
})

type Inbound = { message: Record<string, unknown> & { contact_message: Record<string, unknown>; channel_identity: Record<string, unknown> } }
const inboundOf = (hook: CapturedRequest | undefined) => hook?.json as Inbound

/** Every key of the documented sample is present in ours (recursively, for objects). */
function expectSameKeys(ours: unknown, documented: unknown, path = ''): void {
  if (documented === null || typeof documented !== 'object' || Array.isArray(documented)) return
  expect(ours, path).toBeTypeOf('object')
  for (const [key, value] of Object.entries(documented)) {
    expect(ours, `${path}.${key}`).toHaveProperty([key])
    expectSameKeys((ours as Record<string, unknown>)[key], value, `${path}.${key}`)
  }
}

describe('MESSAGE_INBOUND', () => {
  it('text has the shape of inbound_text_whatsapp.json, signed, identity digits without +', async () => {
    rig = await startRig()
    const { providerMessageId } = await rig.sim.inbound(rig.app.appId, { from: '+46712312312', text: 'Hi from contact' })
    await rig.sim.idle()
    const hook = rig.hooks.requests[0]
    expect(hook && signatureIsValid(hook, WEBHOOK_SECRET)).toBe(true)
    const ours = inboundOf(hook)
    expectSameKeys(ours, readFixtureJson('sinch', 'inbound_text_whatsapp.json'))
    expect(ours.message).toMatchObject({
      id: providerMessageId,
      direction: 'TO_APP',
      contact_message: { text_message: { text: 'Hi from contact' } },
      channel_identity: { channel: 'WHATSAPP', identity: '46712312312' },
      sender_id: '15550001111',
    })
    expect(ours).toMatchObject({ app_id: rig.app.appId, project_id: rig.app.projectId })
  })

  it('media has the shape of inbound_media_whatsapp.json; with a caption it is a media_card_message', async () => {
    rig = await startRig()
    await rig.sim.inbound(rig.app.appId, { from: '46712312312', media: { url: 'https://example.com/a.png', mime_type: 'image/png' } })
    await rig.sim.idle()
    await rig.sim.inbound(rig.app.appId, { from: '46712312312', media: { url: 'https://example.com/b.png', caption: 'look' } })
    await rig.sim.idle()
    expectSameKeys(inboundOf(rig.hooks.requests[0]), readFixtureJson('sinch', 'inbound_media_whatsapp.json'))
    expect(inboundOf(rig.hooks.requests[0]).message.contact_message).toEqual({ media_message: { url: 'https://example.com/a.png' } })
    expect(inboundOf(rig.hooks.requests[1]).message.contact_message).toEqual({
      media_card_message: { url: 'https://example.com/b.png', caption: 'look' },
    })
  })

  it('a button is a choice_response_message naming the app message it answers', async () => {
    rig = await startRig()
    const sent = await sendMessage(rig, textTo(rig, '46712312312'), basic('key-id-1', 'key-secret-1'))
    const appMessageId = (sent.json as { message_id: string }).message_id
    await rig.sim.idle()
    rig.hooks.requests.length = 0
    await rig.sim.inbound(rig.app.appId, { from: '+46712312312', button: { text: 'Email me', payload: 'email_postback' } })
    await rig.sim.inbound(rig.app.appId, { from: '+46712312312', button: { text: 'Call' }, reply_to: 'EXPLICIT' })
    await rig.sim.idle()
    const [first, second] = rig.hooks.requests.map(inboundOf)
    expectSameKeys(first, readFixtureJson('sinch', 'inbound_choice_response_whatsapp.json'))
    expect(first?.message.contact_message).toEqual({ choice_response_message: { message_id: appMessageId, postback_data: 'email_postback' } })
    // Sinch's default postback is message_id + '_' + the choice text.
    expect(second?.message.contact_message).toEqual({ choice_response_message: { message_id: 'EXPLICIT', postback_data: 'EXPLICIT_Call' } })
  })

  it('a quoted reply carries contact_message.reply_to.message_id', async () => {
    rig = await startRig()
    await rig.sim.inbound(rig.app.appId, { from: '+46712312312', text: 'yes', reply_to: 'APPMSG1' })
    await rig.sim.idle()
    const documented = readFixtureJson<Inbound>('sinch', 'inbound_text_reply_to_sdk_fixture.json')
    expect(Object.keys(documented.message.contact_message)).toContain('reply_to')
    expect(inboundOf(rig.hooks.requests[0]).message.contact_message).toEqual({ text_message: { text: 'yes' }, reply_to: { message_id: 'APPMSG1' } })
  })

  it('a Brazilian mobile writes from the 12-digit WhatsApp identity; the contact stays the same', async () => {
    rig = await startRig()
    await rig.sim.inbound(rig.app.appId, { from: '+5535987654321', text: 'oi' })
    await rig.sim.inbound(rig.app.appId, { from: '553587654321', text: 'oi de novo' })
    await rig.sim.idle()
    const [a, b] = rig.hooks.requests.map(inboundOf)
    expect(a?.message.channel_identity.identity).toBe('553587654321')
    expect(b?.message.contact_id).toBe(a?.message.contact_id)
    expect(b?.message.conversation_id).toBe(a?.message.conversation_id)
  })

  it('refuses an unknown app and an empty message', async () => {
    rig = await startRig()
    await expect(rig.sim.inbound('NOPE', { from: '+4670', text: 'x' })).rejects.toThrow(/unknown/)
    await expect(rig.sim.inbound(rig.app.appId, { from: '+4670' })).rejects.toThrow()
  })

  it('is unsigned when the app has no webhook secret', async () => {
    rig = await startRig({}, { webhookSecret: undefined })
    await rig.sim.inbound(rig.app.appId, { from: '+46712312312', text: 'hi' })
    await rig.sim.idle()
    expect(rig.hooks.requests[0]?.headers['x-sinch-webhook-signature']).toBeUndefined()
  })
})

describe('whatsappIdentity', () => {
  it.each([
    ['+5535987654321', '553587654321'],
    ['5511912345678', '551112345678'],
    ['+551133334444', '551133334444'],
    ['+46712312312', '46712312312'],
    ['+1 (555) 000-1111', '15550001111'],
  ])('%s → %s', (input, expected) => {
    expect(whatsappIdentity(input)).toBe(expected)
  })
})

describe('opt-out / opt-in and control routes', () => {
  it('optOut posts an OPT_OUT callback like opt_out_whatsapp.json and later sends fail RECIPIENT_NOT_OPTED_IN', async () => {
    rig = await startRig()
    await rig.sim.optOut(rig.app.appId, '+46712312312')
    await rig.sim.idle()
    const optOut = rig.hooks.requests[0]?.json
    expectSameKeys(optOut, readFixtureJson('sinch', 'opt_out_whatsapp.json'))
    expect(optOut).toMatchObject({ opt_out_notification: { channel: 'WHATSAPP', identity: '46712312312', status: 'OPT_OUT_SUCCEEDED' } })

    const auth = basic('key-id-1', 'key-secret-1')
    const blocked = (await sendMessage(rig, textTo(rig, '+46712312312'), auth)).json as { message_id: string }
    await rig.sim.idle()
    const reportFor = (id: string) =>
      rig?.hooks.requests
        .map((h) => (h.json as { message_delivery_report?: { message_id: string; status: string; reason?: { code: string } } }).message_delivery_report)
        .filter((r) => r?.message_id === id)
    expect(reportFor(blocked.message_id)).toEqual([expect.objectContaining({ status: 'FAILED', reason: expect.objectContaining({ code: 'RECIPIENT_NOT_OPTED_IN' }) })])

    const optIn = await call(`${rig.sim.url}/_sim/opt-out`, {
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ account: rig.app.appId, number: '+46712312312', opt_in: true }),
    })
    expect(optIn.status).toBe(200)
    await rig.sim.idle()
    expect(rig.hooks.requests.at(-1)?.json).toMatchObject({ opt_in_notification: { status: 'OPT_IN_SUCCEEDED' } })
    const allowed = (await sendMessage(rig, textTo(rig, '+46712312312'), auth)).json as { message_id: string }
    await rig.sim.idle()
    expect(reportFor(allowed.message_id)?.at(-1)?.status).toBe('READ')
  })

  it('POST /_sim/apps, /_sim/inbound, GET /_sim/sent and /_sim/stats drive a second app', async () => {
    rig = await startRig()
    const json = { 'content-type': 'application/json' }
    const second = { ...rig.app, appId: '01APPSIM000000000000000002', projectId: 'proj-2', keyId: 'key-2', keySecret: 'secret-2' }
    expect((await call(`${rig.sim.url}/_sim/apps`, { headers: json, body: JSON.stringify(second) })).status).toBe(201)
    expect((await call(`${rig.sim.url}/_sim/apps`, { headers: json, body: JSON.stringify({ appId: 'x' }) })).status).toBe(400)

    const inbound = await call(`${rig.sim.url}/_sim/inbound`, { headers: json, body: JSON.stringify({ account: second.appId, from: '+46712312312', text: 'hey' }) })
    expect(inbound.status).toBe(200)
    expect(inbound.json).toHaveProperty('providerMessageId')
    expect((await call(`${rig.sim.url}/_sim/inbound`, { headers: json, body: JSON.stringify({ account: 'NOPE', from: '+1', text: 'x' }) })).status).toBe(404)

    const sent = await call(`${rig.sim.url}/v1/projects/proj-2/messages:send`, {
      headers: { ...json, authorization: basic('key-2', 'secret-2') },
      body: JSON.stringify({ ...textTo(rig, '46712312312'), app_id: second.appId }),
    })
    expect(sent.status).toBe(200)
    await rig.sim.idle()
    const listed = await call(`${rig.sim.url}/_sim/sent`, { method: 'GET' })
    expect(listed.json).toEqual([expect.objectContaining({ account: second.appId, type: 'text' })])
    const stats = await call(`${rig.sim.url}/_sim/stats`, { method: 'GET' })
    expect(stats.json).toMatchObject({ sent: 1, requests: 1, tokensIssued: 0 })
  })
})
