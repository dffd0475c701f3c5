import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Webhook } from 'standardwebhooks'
import { metaSandbox, twilioSandbox } from '../../src/sandbox.js'
import { startCaptureServer, type CaptureServer } from '../harness/capture-server.js'
import { startTestGateway, type TestGateway } from '../harness/gateway.js'
import { header, swHeaders } from '../events/helpers.js'
import { createRule, createSmsAccount, eventsOf, ruleEvent, send, twilioSimulator, waitForStatus } from './helpers.js'

/**
 * Acceptance (issue 6): a WhatsApp send to a number that is not on WhatsApp (sandbox numbers end in
 * 0000), with a fallback rule, reaches the contact as an SMS through the Twilio simulator, and both
 * messages are linked in the API; each run emits rule.fired or rule.failed; a rule never loops on
 * the failure of its own fallback. Each test scopes its rule to its own number with a condition.
 */
const SMS_NUMBER = '+14155550199'

describe('rules: fallback to SMS and the other actions, end to end', () => {
  let t: TestGateway
  let receiver: CaptureServer
  beforeAll(async () => {
    t = await startTestGateway({ sandboxes: (timings) => [metaSandbox(timings), twilioSandbox(timings)] })
    receiver = await startCaptureServer((req) => (req.path.startsWith('/broken') ? { status: 500, body: 'nope' } : { status: 204 }))
    await createSmsAccount(t, 'sms', SMS_NUMBER)
  })
  afterAll(async () => {
    await t?.close()
    await receiver?.close()
  })

  it('a WhatsApp image to a number not on WhatsApp reaches the contact as an SMS with the link; both messages are linked; rule.fired; the webhook action is signed', async () => {
    const to = '+14155550000'
    const rule = await createRule(t, {
      name: 'sms-fallback',
      topics: ['message.sandbox-meta.failed'],
      conditions: ['data.message.error.code == "recipient_not_on_whatsapp"', { path: 'data.message.to', op: 'eq', value: `tel:${to}` }],
      actions: [
        { type: 'fallback_send', account: 'sms' },
        { type: 'webhook', url: `${receiver.url}/rules` },
      ],
    })
    expect(rule.secret).toMatch(/^whsec_/)
    const sim = twilioSimulator(t)
    const sentBefore = sim.sent().length

    const originalId = await send(t, { account: 'sandbox-meta', to, type: 'image', media: { url: 'https://cdn.example.com/receipt.jpg', caption: 'Your receipt' } })
    const original = await waitForStatus(t, originalId, ['failed'])
    expect(original.error).toMatchObject({ code: 'recipient_not_on_whatsapp' })

    const linked = await t.waitFor(async () => {
      const r = await t.api('GET', `/v1/messages/${originalId}`)
      return r.json.fallbacks?.length > 0 ? r.json : undefined
    }, 15_000, 'the original to name its fallback')
    expect(linked.fallback_of).toBeNull()
    expect(linked.fallbacks).toHaveLength(1)
    const fallbackId = linked.fallbacks[0] as string

    const fallback = await waitForStatus(t, fallbackId, ['sent', 'delivered', 'read'])
    expect(fallback).toMatchObject({
      account: 'sms',
      direction: 'out',
      type: 'text',
      to: `tel:${to}`,
      contact_id: original.contact_id,
      text: 'Your receipt\nhttps://cdn.example.com/receipt.jpg',
      fallback_of: originalId,
      fallbacks: [],
      metadata: { fallback_of: originalId, fallback_rules: [rule.id] },
    })

    // What reached the Twilio simulator: an SMS (plain number, not whatsapp:) from the SMS account's number.
    const sms = sim.sent().slice(sentBefore).filter((r) => r.providerMessageId === fallback.provider_message_id)
    expect(sms).toHaveLength(1)
    const wire = sms[0]?.body as Record<string, string>
    expect(wire.To).toBe(to)
    expect(wire.From).toBe(SMS_NUMBER)
    expect(wire.Body).toBe('Your receipt\nhttps://cdn.example.com/receipt.jpg')

    const failedEvent = (await eventsOf(t, 'message.status')).find((e) => e.topic === 'message.sandbox-meta.failed' && e.data.message.id === originalId)
    expect(failedEvent).toBeDefined()
    const fired = await ruleEvent(t, 'rule.fired', rule.id)
    expect(fired).toMatchObject({
      type: 'rule.fired',
      topic: 'rule.sms-fallback.fired',
      account: 'sandbox-meta',
      data: {
        rule: { id: rule.id, name: 'sms-fallback' },
        event: { id: failedEvent?.id, type: 'message.status', topic: 'message.sandbox-meta.failed' },
        actions: [
          { index: 0, type: 'fallback_send', ok: true, account: 'sms', message_id: fallbackId, fallback_of: originalId },
          { index: 1, type: 'webhook', ok: true, status: 204 },
        ],
      },
    })

    // The webhook action: the triggering event, signed with the rule's secret like a subscription delivery.
    const posted = receiver.requests.filter((r) => r.path === '/rules')
    expect(posted).toHaveLength(1)
    const req = posted[0]
    if (!req) throw new Error('no webhook request')
    expect(header(req, 'webhook-id')).toBe(`${failedEvent?.id}.${rule.id}`)
    expect(header(req, 'wagate-rule')).toBe(rule.id)
    expect(new Webhook(rule.secret).verify(req.raw, swHeaders(req))).toMatchObject({ id: failedEvent?.id, topic: 'message.sandbox-meta.failed' })
    expect(() => new Webhook(rule.secret).verify(req.raw.replace('failed', 'FAILED'), swHeaders(req))).toThrow()

    const got = await t.api('GET', `/v1/rules/${rule.id}`)
    expect(got.json.runs).toMatchObject({ fired: 1, failed: 0 })
    const runs = await t.api('GET', `/v1/rules/${rule.id}/runs`)
    expect(runs.json.data).toHaveLength(1)
    expect(runs.json.data[0]).toMatchObject({ event_id: failedEvent?.id, state: 'fired', error: null })
  })

  it('a failing action emits rule.failed naming it; a refused fallback applies none of the rule\'s store actions', async () => {
    const to = '+14155560000'
    const hook = await createRule(t, {
      name: 'broken-hook',
      topics: ['message.sandbox-meta.failed'],
      conditions: [`data.message.to == "tel:${to}"`],
      actions: [{ type: 'webhook', url: `${receiver.url}/broken` }],
    })
    // An image known only by its provider media id has no link to put in an SMS: the fallback is
    // refused, and the stop before it rolls back.
    const refused = await createRule(t, {
      name: 'template-fallback',
      topics: ['message.sandbox-meta.failed'],
      conditions: [`data.message.to == "tel:${to}"`],
      actions: [{ type: 'stop_contact' }, { type: 'fallback_send', account: 'sms' }],
    })
    const id = await send(t, { account: 'sandbox-meta', to, type: 'image', media: { id: '1234567890' } })
    const original = await waitForStatus(t, id, ['failed'])

    const failedHook = await ruleEvent(t, 'rule.failed', hook.id)
    expect(failedHook).toMatchObject({ topic: 'rule.broken-hook.failed', data: { error: { index: 0, type: 'webhook', code: 'webhook_failed' }, actions: [{ type: 'webhook', ok: false, status: 500 }] } })
    expect(failedHook.data.error.detail).toMatch(/HTTP 500/)

    const failedFallback = await ruleEvent(t, 'rule.failed', refused.id)
    expect(failedFallback.data.error).toMatchObject({ index: 1, type: 'fallback_send', code: 'fallback_not_possible' })
    expect(failedFallback.data.error.detail).toMatch(/media id/)
    expect((await t.api('GET', `/v1/messages/${id}`)).json.fallbacks).toEqual([])
    const contact = await t.api('GET', `/v1/contacts/${original.contact_id}`)
    expect(contact.json.state).toBe('active')
    expect((await t.api('GET', `/v1/rules/${refused.id}`)).json.runs).toMatchObject({ fired: 0, failed: 1 })
  })

  it('no loop: the fallback failing the same way does not trigger its own rule again', async () => {
    const to = '+14155570000'
    const sim = twilioSimulator(t)
    // The SMS fails too (Twilio 30005, unknown handset: normalized to recipient_not_on_whatsapp as well).
    sim.setFaults([{ kind: 'not_on_whatsapp', recipients: [to] }])
    try {
      const loop = await createRule(t, {
        name: 'loop-guard',
        topics: ['message.*.failed'],
        conditions: ['data.message.error.code == "recipient_not_on_whatsapp"', `data.message.to == "tel:${to}"`],
        actions: [{ type: 'fallback_send', account: 'sms' }],
      })
      // A witness on the SMS account's failures: once it has run on the fallback's failure, the
      // runner has looked at that event for every rule.
      const witness = await createRule(t, { name: 'witness', topics: ['message.sms.failed'], conditions: [`data.message.to == "tel:${to}"`], actions: [{ type: 'webhook', url: `${receiver.url}/witness` }] })

      const id = await send(t, { account: 'sandbox-meta', to, type: 'text', text: 'are you there?' })
      await waitForStatus(t, id, ['failed'])
      const fired = await ruleEvent(t, 'rule.fired', loop.id)
      const fallbackId = fired.data.actions[0].message_id as string
      const fallback = await waitForStatus(t, fallbackId, ['failed'])
      expect(fallback.error).toMatchObject({ code: 'recipient_not_on_whatsapp' })
      expect(fallback.fallback_of).toBe(id)

      const seen = await ruleEvent(t, 'rule.fired', witness.id)
      expect(seen.data.event.topic).toBe('message.sms.failed')
      expect((await t.api('GET', `/v1/rules/${loop.id}`)).json.runs).toMatchObject({ fired: 1, failed: 0 })
      const sms = await t.api('GET', '/v1/messages?account=sms&limit=500')
      expect(sms.json.data.filter((m: { to: string }) => m.to === `tel:${to}`)).toHaveLength(1)
      // Nor does any rule run on rule events.
      expect((await eventsOf(t, 'rule.fired')).filter((e) => e.data.event.type.startsWith('rule.'))).toEqual([])
    } finally {
      sim.clearFaults()
    }
  })

  it('stop_contact and add_urn act on the contact; mark_urn_unreachable on the message URN', async () => {
    const to = '+14155580000'
    const rule = await createRule(t, {
      name: 'stop-and-learn',
      topics: ['message.sandbox-meta.failed'],
      conditions: [`data.message.to == "tel:${to}"`],
      actions: [
        { type: 'stop_contact', reason: 'not on WhatsApp' },
        { type: 'add_urn', urn: 'tel:+1 415 555 2671' },
      ],
    })
    const id = await send(t, { account: 'sandbox-meta', to, type: 'text', text: 'hello' })
    const original = await waitForStatus(t, id, ['failed'])
    const fired = await ruleEvent(t, 'rule.fired', rule.id)
    expect(fired.data.actions).toEqual([
      { index: 0, type: 'stop_contact', ok: true, account: 'sandbox-meta', contact_id: original.contact_id, changed: true },
      { index: 1, type: 'add_urn', ok: true, urn: 'tel:+14155552671', contact_id: original.contact_id, outcome: 'added' },
    ])
    const optedOut = await t.waitFor(async () => (await eventsOf(t, 'contact.opted_out')).find((e) => e.data.contact.id === original.contact_id), 10_000, 'contact.opted_out')
    expect(optedOut.data).toMatchObject({ reason: 'not on WhatsApp', rule: { id: rule.id, name: 'stop-and-learn' } })
    const contact = await t.api('GET', `/v1/contacts/${original.contact_id}`)
    expect(contact.json.urns.map((u: { urn: string }) => u.urn)).toContain('tel:+14155552671')
    const again = await t.api('POST', '/v1/messages', { account: 'sandbox-meta', to, type: 'text', text: 'still?' })
    expect(again.status).toBe(422)
    expect(again.json.code).toBe('recipient_opted_out')

    // mark_urn_unreachable on a message that was delivered: the URN is marked for 45 days.
    const reachable = '+14155552672'
    const mark = await createRule(t, { name: 'mark', topics: ['message.sandbox-meta.delivered'], conditions: [`data.message.to == "tel:${reachable}"`], actions: [{ type: 'mark_urn_unreachable' }] })
    const delivered = await waitForStatus(t, await send(t, { account: 'sandbox-meta', to: reachable, type: 'text', text: 'hi' }), ['delivered', 'read'])
    const marked = await ruleEvent(t, 'rule.fired', mark.id)
    expect(marked.data.actions).toEqual([{ index: 0, type: 'mark_urn_unreachable', ok: true, urn: `tel:${reachable}`, changed: true }])
    const c2 = await t.api('GET', `/v1/contacts/${delivered.contact_id}`)
    expect(c2.json.urns.find((u: { urn: string }) => u.urn === `tel:${reachable}`)).toMatchObject({ reachable: false })
  })
})
