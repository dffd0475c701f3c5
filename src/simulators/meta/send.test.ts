import { afterEach, describe, expect, it } from 'vitest'
import { readFixtureJson } from '../../../test/harness/fixtures.js'
import { DISPLAY, PHONE_ID, WABA, signatureIsValid, startRig, statusesReceived, textTo, valueOf, type Rig } from './test-kit.js'

let rig: Rig
afterEach(async () => {
  await rig.close()
})

const errorOf = (json: unknown) => (json as { error: Record<string, unknown> }).error

describe('auth', () => {
  it('refuses a missing token with 401 / code 190 OAuthException', async () => {
    rig = await startRig()
    const res = await rig.send(textTo('16505551234'), { token: null })
    expect(res.status).toBe(401)
    expect(errorOf(res.json)).toMatchObject({ type: 'OAuthException', code: 190 })
    expect(typeof errorOf(res.json).fbtrace_id).toBe('string')
  })
  it('refuses a wrong token with 401 / 190', async () => {
    rig = await startRig()
    const res = await rig.send(textTo('16505551234'), { token: 'someone-else' })
    expect(res.status).toBe(401)
    expect(errorOf(res.json).code).toBe(190)
  })
  it('answers an unknown phone number id with a Graph code 100 error', async () => {
    rig = await startRig()
    const res = await rig.send(textTo('16505551234'), { phoneId: '999' })
    expect(res.status).toBe(400)
    expect(errorOf(res.json)).toMatchObject({ code: 100 })
    expect(rig.sim.stats()).toMatchObject({ requests: 1, rejected: 1, sent: 0 })
  })
})

describe('shape', () => {
  it('refuses a text without body with the (#100) Invalid parameter shape', async () => {
    rig = await startRig()
    const res = await rig.send({ messaging_product: 'whatsapp', to: '16505551234', type: 'text', text: {} })
    expect(res.status).toBe(400)
    const error = errorOf(res.json)
    expect(error).toMatchObject({ message: '(#100) Invalid parameter', type: 'OAuthException', code: 100 })
    expect(error.error_data).toMatchObject({ messaging_product: 'whatsapp', details: expect.stringContaining('text.body') })
  })
  it('refuses four reply buttons', async () => {
    rig = await startRig()
    const body = readFixtureJson<{ interactive: { action: { buttons: unknown[] } } }>('meta', 'send-interactive-buttons-request.json')
    const one = body.interactive.action.buttons[0] as { reply: { id: string; title: string } }
    body.interactive.action.buttons = [0, 1, 2, 3].map((i) => ({ type: 'reply', reply: { id: `${one.reply.id}${i}`, title: `B${i}` } }))
    const res = await rig.send(body)
    expect(res.status).toBe(400)
    expect(errorOf(res.json).code).toBe(100)
    expect(rig.sim.stats().rejected).toBe(1)
    expect(rig.sim.sent()).toHaveLength(0)
  })
  it('refuses a body that is not JSON', async () => {
    rig = await startRig()
    const res = await rig.send('{not json')
    expect(res.status).toBe(400)
    expect(errorOf(res.json).code).toBe(100)
  })
})

describe('accepted sends', () => {
  it('answers in the documented success shape and records the send', async () => {
    rig = await startRig()
    const res = await rig.send(readFixtureJson('meta', 'send-image-by-id-request.json'))
    expect(res.status).toBe(200)
    const json = res.json as { messaging_product: string; contacts: unknown[]; messages: Array<{ id: string }> }
    expect(json.messaging_product).toBe('whatsapp')
    expect(json.contacts).toEqual([{ input: '+16505551234', wa_id: '16505551234' }])
    expect(json.messages).toHaveLength(1)
    expect(json.messages[0]?.id).toMatch(/^wamid\.[A-Za-z0-9+/=]+$/)
    expect(json.messages[0]?.id.length).toBeLessThanOrEqual(128)
    expect(rig.sim.sent()).toEqual([
      expect.objectContaining({ providerMessageId: json.messages[0]?.id, account: PHONE_ID, to: '+16505551234', type: 'image' }),
    ])
  })

  it('gives every send a different wamid', async () => {
    rig = await startRig()
    const ids = new Set<string>()
    for (let i = 0; i < 5; i++) {
      const res = await rig.send(textTo('16505551234'))
      ids.add((res.json as { messages: Array<{ id: string }> }).messages[0]?.id ?? '')
    }
    expect(ids.size).toBe(5)
  })

  it('posts signed sent → delivered → read statuses in the documented envelope', async () => {
    rig = await startRig()
    const res = await rig.send(textTo('+16505551234', { biz_opaque_callback_data: 'ref-42' }))
    const wamid = (res.json as { messages: Array<{ id: string }> }).messages[0]?.id
    await rig.sim.idle(2000)
    expect(rig.hooks.requests).toHaveLength(3)
    for (const req of rig.hooks.requests) {
      expect(req.path).toBe('/webhooks/meta')
      expect(req.headers['content-type']).toContain('application/json')
      expect(signatureIsValid(req)).toBe(true)
      expect(signatureIsValid(req, 'another-secret')).toBe(false)
      const payload = req.json as { entry: Array<{ id: string }> }
      expect(payload.entry[0]?.id).toBe(WABA)
      expect(valueOf(req).metadata).toEqual({ display_phone_number: DISPLAY, phone_number_id: PHONE_ID })
    }
    const statuses = statusesReceived(rig.hooks)
    expect(statuses.map((s) => s.status)).toEqual(['sent', 'delivered', 'read'])
    for (const s of statuses) {
      expect(s).toMatchObject({ id: wamid, recipient_id: '16505551234', biz_opaque_callback_data: 'ref-42' })
      expect(s.timestamp).toMatch(/^\d{10}$/)
    }
    expect(statuses[0]?.pricing).toMatchObject({ pricing_model: 'PMP', category: 'service' })
    expect(statuses[1]?.pricing).toMatchObject({ pricing_model: 'PMP' })
    expect(statuses[2]?.pricing).toBeUndefined()
    expect(rig.sim.stats().webhooksDelivered).toBe(3)
  })

  it('includes conversation only for versions before v24.0', async () => {
    rig = await startRig()
    await rig.send(textTo('16505551234'), { version: 'v23.0' })
    await rig.sim.idle(2000)
    const old = statusesReceived(rig.hooks)
    expect(old[0]?.conversation).toMatchObject({ origin: { type: 'service' } })
    rig.hooks.requests.length = 0
    await rig.send(textTo('16505551234'), { version: 'v25.0' })
    await rig.sim.idle(2000)
    expect(statusesReceived(rig.hooks)[0]?.conversation).toBeUndefined()
  })

  it('answers a Brazilian mobile with the 12-digit wa_id and reports statuses for it', async () => {
    rig = await startRig()
    const res = await rig.send(textTo('5511987654321'))
    expect((res.json as { contacts: unknown[] }).contacts).toEqual([{ input: '5511987654321', wa_id: '551187654321' }])
    await rig.sim.idle(2000)
    expect(statusesReceived(rig.hooks)[0]?.recipient_id).toBe('551187654321')
  })

  it('answers a Mexican 521 number with the 52 wa_id', async () => {
    rig = await startRig()
    const res = await rig.send(textTo('+5215512345678'))
    expect((res.json as { contacts: unknown[] }).contacts).toEqual([{ input: '+5215512345678', wa_id: '525512345678' }])
  })

  it('sends to a BSUID: user_id in the answer, recipient_user_id in statuses, no wa_id', async () => {
    rig = await startRig()
    const res = await rig.send(readFixtureJson('meta', 'send-text-to-bsuid-request.json'))
    expect(res.status).toBe(200)
    expect((res.json as { contacts: unknown[] }).contacts).toEqual([{ input: 'US.1234', user_id: 'US.1234' }])
    await rig.sim.idle(2000)
    const statuses = statusesReceived(rig.hooks)
    expect(statuses).toHaveLength(3)
    for (const s of statuses) {
      expect(s.recipient_user_id).toBe('US.1234')
      expect(s).not.toHaveProperty('recipient_id')
    }
  })

  it('accepts a number ending in 0000, then reports failed with 131026', async () => {
    rig = await startRig()
    const res = await rig.send(textTo('+15550000000'))
    expect(res.status).toBe(200)
    const wamid = (res.json as { messages: Array<{ id: string }> }).messages[0]?.id
    await rig.sim.idle(2000)
    const statuses = statusesReceived(rig.hooks)
    expect(statuses).toHaveLength(1)
    expect(statuses[0]).toMatchObject({ id: wamid, status: 'failed', recipient_id: '15550000000' })
    expect(statuses[0]?.errors).toEqual([
      expect.objectContaining({ code: 131026, title: 'Message undeliverable', error_data: { details: expect.any(String) } }),
    ])
    expect(signatureIsValid(rig.hooks.requests[0]!)).toBe(true)
  })

  it('follows a reaction with a sent status only', async () => {
    rig = await startRig()
    await rig.send(readFixtureJson('meta', 'send-reaction-request.json'))
    await rig.sim.idle(2000)
    await new Promise((r) => setTimeout(r, 80))
    expect(statusesReceived(rig.hooks).map((s) => s.status)).toEqual(['sent'])
  })

  it('marks as read with {success:true} and counts no send', async () => {
    rig = await startRig()
    const res = await rig.send({ messaging_product: 'whatsapp', status: 'read', message_id: 'wamid.ABC' })
    expect(res.status).toBe(200)
    expect(res.json).toEqual({ success: true })
    expect(rig.sim.stats()).toMatchObject({ requests: 1, sent: 0 })
    await rig.sim.idle(1000)
    expect(rig.hooks.requests).toHaveLength(0)
  })

  it('counts an accepted send whose biz_opaque_callback_data was seen before as a duplicate', async () => {
    rig = await startRig()
    await rig.send(textTo('16505551234', { biz_opaque_callback_data: 'msg-1' }))
    await rig.send(textTo('16505551234', { biz_opaque_callback_data: 'msg-2' }))
    await rig.send(textTo('16505551234', { biz_opaque_callback_data: 'msg-1' }))
    await rig.send(textTo('16505551234'))
    expect(rig.sim.stats()).toMatchObject({ sent: 4, duplicates: 1 })
    expect(rig.sim.sent().map((r) => r.clientRef)).toEqual(['msg-1', 'msg-2', 'msg-1', undefined])
  })

  it('can post the three statuses out of order, timestamps still in true order', async () => {
    const orders = new Set<string>()
    for (const seed of [1, 2, 3, 4, 5, 6]) {
      rig = await startRig({ seed, shuffleStatuses: true, timings: { sentMs: 0, deliveredMs: 25, readMs: 50 } })
      await rig.send(textTo('16505551234'))
      await rig.sim.idle(2000)
      const statuses = statusesReceived(rig.hooks)
      expect(statuses.map((s) => s.status).sort()).toEqual(['delivered', 'read', 'sent'])
      const at = Object.fromEntries(statuses.map((s) => [s.status, Number(s.timestamp)]))
      expect(at.sent).toBeLessThanOrEqual(at.delivered ?? 0)
      expect(at.delivered).toBeLessThanOrEqual(at.read ?? 0)
      orders.add(statuses.map((s) => s.status).join(','))
      await rig.close()
    }
    expect(orders.size).toBeGreaterThan(1)
    rig = await startRig()
  })

  it('redelivers a status the gateway refused', async () => {
    rig = await startRig({ webhookRetryDelaysMs: [10, 10] })
    let refusals = 1
    rig.hooks.respond(() => (refusals-- > 0 ? { status: 500 } : { status: 200 }))
    await rig.send(readFixtureJson('meta', 'send-reaction-request.json'))
    await rig.sim.idle(2000)
    expect(rig.hooks.requests).toHaveLength(2)
    expect(rig.hooks.requests[0]?.raw).toBe(rig.hooks.requests[1]?.raw)
    expect(rig.sim.stats()).toMatchObject({ webhooksFailed: 1, webhooksDelivered: 1 })
  })
})
