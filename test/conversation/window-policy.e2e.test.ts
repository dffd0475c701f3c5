import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { metaSandbox, twilioSandbox } from '../../src/sandbox.js'
import { startTestGateway, type TestGateway } from '../harness/gateway.js'
import { contactByUrn, simulatorOf } from '../identity/helpers.js'
import { HOUR, getMessage, movableClock, patchAccount, sentTo, waitAll } from './window-helpers.js'

/**
 * The 24-hour window (DESIGN §8) as the API shows it, and the `reject` and `send` policies: reject
 * refuses free-form messages to a closed window at the API with no provider call; send lets the
 * provider decide, and its window error (Meta 131047, Twilio 63016) fails the message as
 * `outside_window`. The simulators enforce the window as the providers document it.
 */
const META = 'sandbox-meta'
const TWILIO = 'sandbox-twilio'

describe('the window and the reject / send policies', () => {
  let t: TestGateway
  const clock = movableClock()

  beforeAll(async () => {
    t = await startTestGateway({ clock, sandboxes: (timings) => [metaSandbox(timings, { enforceWindow: true }), twilioSandbox(timings, { enforceWindow: true })] })
  })
  afterAll(async () => t.close())

  const count = async (account: string) => (await t.api('GET', `/v1/messages?account=${account}&limit=500`)).json.data.length as number

  it('reject: a free-form message to a closed window is a 422 outside_window; nothing is queued and the provider gets no call', async () => {
    await patchAccount(t, META, { window_policy: 'reject' })
    const sim = simulatorOf(t, META)
    await sim.idle(5_000)
    const requests = sim.stats().requests
    const messages = await count(META)
    const to = '+14155550201'
    const text = await t.api('POST', '/v1/messages', { account: META, to, type: 'text', text: 'hello?' })
    expect(text.status).toBe(422)
    expect(text.json).toMatchObject({ code: 'outside_window', status: 422 })
    expect(text.json.detail).toMatch(/never wrote/)
    const reaction = await t.api('POST', '/v1/messages', { account: META, to, type: 'reaction', reaction: { message_id: 'wamid.HBgLMTQxNTU1NTAyMDE', emoji: '👍' } })
    expect(reaction.json.code).toBe('outside_window')
    await new Promise((r) => setTimeout(r, 300))
    expect(sim.stats().requests).toBe(requests)
    expect(await count(META)).toBe(messages)

    // Templates always go out.
    const template = await t.api('POST', '/v1/messages', { account: META, to, type: 'template', template: { name: 'hello_world', language: 'en_US' } })
    expect(template.status).toBe(202)
    expect((await waitAll(t, [template.json.id], ['read', 'failed']))[0].status).toBe('read')
  })

  it('reject: once the contact writes, free-form goes out for 24 h; the window shows on the contact and on each message', async () => {
    const to = '+14155550202'
    expect((await t.api('POST', `/sandbox/${META}/inbound`, { from: to, text: 'hi!' })).status).toBe(202)
    const contact = await t.waitFor(async () => (await contactByUrn(t, `tel:${to}`))?.accounts?.find((a: { account: string }) => a.account === META), 10_000, 'the inbound')
    const expires = Date.parse(contact.last_inbound_at) + 24 * HOUR
    expect(contact).toMatchObject({ window_open: true, window_expires_at: new Date(expires).toISOString(), stashed: 0 })

    const sent = await t.api('POST', '/v1/messages', { account: META, to, type: 'text', text: 'thanks for writing' })
    expect(sent.status).toBe(202)
    const read = (await waitAll(t, [sent.json.id], ['read', 'failed']))[0]
    expect(read).toMatchObject({ status: 'read', window_expires_at: new Date(expires).toISOString() })
    const inbound = (await t.api('GET', `/v1/messages?account=${META}&contact=${read.contact_id}&direction=in`)).json.data[0]
    expect(inbound.window_expires_at).toBe(new Date(expires).toISOString())

    clock.offset += 25 * HOUR
    expect((await contactByUrn(t, `tel:${to}`)).accounts.find((a: { account: string }) => a.account === META)).toMatchObject({ window_open: false, window_expires_at: new Date(expires).toISOString() })
    const late = await t.api('POST', '/v1/messages', { account: META, to, type: 'text', text: 'still there?' })
    expect(late.status).toBe(422)
    expect(late.json.code).toBe('outside_window')
    expect(late.json.detail).toContain(new Date(expires).toISOString())
  })

  it.each([
    { account: META, to: '+14155550203', providerCode: '131047', setup: () => patchAccount(t, META, { window_policy: 'send' }) },
    { account: TWILIO, to: '+14155550204', providerCode: '63016', setup: async () => undefined },
  ])('send ($account): the provider answers with its window error and the message fails outside_window', async ({ account, to, providerCode, setup }) => {
    await setup()
    const r = await t.api('POST', '/v1/messages', { account, to, type: 'text', text: 'unsolicited' })
    expect(r.status).toBe(202)
    expect(r.json.status).toBe('queued')
    const failed = (await waitAll(t, [r.json.id], ['failed', 'read']))[0]
    expect(failed.status).toBe('failed')
    expect(failed.error).toMatchObject({ code: 'outside_window', retryable: false, provider_code: providerCode })
    expect(failed.window_expires_at).toBeNull()
    // The provider was called (the policy let it decide).
    expect(sentTo(t, account, to).length).toBeGreaterThan(0)
    expect((await getMessage(t, r.json.id)).history.map((h: { status: string }) => h.status)).toContain('failed')
  })
})
