import { request } from 'undici'
import { afterEach, describe, expect, it } from 'vitest'
import { signatureIsValid, startRig, textTo, valueOf, type Rig } from './test-kit.js'

let rig: Rig
afterEach(async () => {
  await rig.close()
})

async function call(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown) {
  const res = await request(`${rig.sim.url}${path}`, {
    method,
    ...(body !== undefined ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {}),
  })
  const text = await res.body.text()
  return { status: res.statusCode, json: text ? (JSON.parse(text) as unknown) : undefined }
}

describe('/_sim control routes', () => {
  it('adds an account that can then send and receive', async () => {
    rig = await startRig()
    const added = await call('POST', '/_sim/accounts', {
      phoneNumberId: '2002',
      displayPhoneNumber: '15550002002',
      accessToken: 'second-token',
      appSecret: 'second-secret',
      webhookUrl: `${rig.hooks.url}/second`,
    })
    expect(added.status).toBe(201)
    expect((await rig.send(textTo('16505551234'), { phoneId: '2002', token: 'second-token' })).status).toBe(200)
    expect((await call('POST', '/_sim/accounts', { phoneNumberId: '3' })).status).toBe(400)

    const inbound = await call('POST', '/_sim/inbound', { account: '2002', from: '+16505551234', text: 'hi there' })
    expect(inbound.status).toBe(200)
    const { providerMessageId } = inbound.json as { providerMessageId: string }
    await rig.sim.idle(2000)
    const hook = rig.hooks.requests.find((r) => valueOf(r).messages !== undefined)!
    expect(hook.path).toBe('/second')
    expect(signatureIsValid(hook, 'second-secret')).toBe(true)
    expect(valueOf(hook).messages?.[0]).toMatchObject({ id: providerMessageId, text: { body: 'hi there' } })
    expect((await call('POST', '/_sim/inbound', { account: 'missing', from: '1', text: 'x' })).status).toBe(404)
    expect((await call('POST', '/_sim/inbound', { account: '2002', from: '16505551234' })).status).toBe(400)
  })

  it('sets and clears faults, and reports sent records and stats', async () => {
    rig = await startRig()
    expect((await call('PUT', '/_sim/faults', { rules: [{ kind: 'rate_limit', count: 1 }] })).status).toBe(204)
    expect((await rig.send(textTo('16505551234'))).status).toBe(429)
    expect((await call('PUT', '/_sim/faults', { rules: [{ kind: 'rate_limit' }] })).status).toBe(204)
    expect((await call('DELETE', '/_sim/faults')).status).toBe(204)
    expect((await rig.send(textTo('16505551234', { biz_opaque_callback_data: 'm-1' }))).status).toBe(200)
    expect((await call('PUT', '/_sim/faults', { rules: [{ kind: 'earthquake' }] })).status).toBe(400)

    const sent = await call('GET', '/_sim/sent')
    expect(sent.json).toEqual([expect.objectContaining({ to: '16505551234', type: 'text', clientRef: 'm-1' })])
    const stats = await call('GET', '/_sim/stats')
    // control calls are not provider API requests
    expect(stats.json).toMatchObject({ requests: 2, sent: 1, faulted: 1, rejected: 0, duplicates: 0 })
  })

  it('lists message templates for the WABA with its token', async () => {
    rig = await startRig({ templates: [{ name: 'order_update', language: 'en_US', category: 'UTILITY', components: [{ type: 'BODY', text: 'Hi {{1}}' }] }] })
    const res = await request(`${rig.sim.url}/v25.0/${rig.account.wabaId}/message_templates`, {
      headers: { authorization: `Bearer ${rig.account.accessToken}` },
    })
    expect(res.statusCode).toBe(200)
    const body = (await res.body.json()) as { data: unknown[]; paging: unknown }
    expect(body.data).toEqual([expect.objectContaining({ name: 'order_update', language: 'en_US', status: 'APPROVED', category: 'UTILITY' })])
    expect(body.paging).toBeDefined()

    const template = (name: string) => ({
      messaging_product: 'whatsapp',
      to: '16505551234',
      type: 'template',
      template: { name, language: { code: 'en_US' } },
    })
    expect((await rig.send(template('order_update'))).status).toBe(200)
    const missing = await rig.send(template('nope'))
    expect((missing.json as { error: { code: number } }).error.code).toBe(132001)
  })
})
