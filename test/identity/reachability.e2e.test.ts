import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readFileSync } from 'node:fs'
import twilio from 'twilio'
import { request } from 'undici'
import type { SinchSimulator } from '../../src/simulators/sinch/index.js'
import { startTestGateway, type TestGateway } from '../harness/gateway.js'
import { contactByUrn, eventsOf, sendText, simulatorOf, waitForStatus } from './helpers.js'

/**
 * Reachability (DESIGN §2, §6) through HTTP: "not on WhatsApp" marks the URN unreachable for 45
 * days (sends fail at once, no provider call) and one send is tried after that; opt-outs stop the
 * contact for one account; a block is the business's own and refuses every send. Time is the
 * gateway's injected clock.
 */
const DAY = 24 * 3600 * 1000

describe('reachability: unreachable URNs, opt-outs and blocks', () => {
  let t: TestGateway
  let offset = 0
  beforeAll(async () => {
    t = await startTestGateway({ clock: { now: () => Date.now() + offset } })
  })
  afterAll(async () => t.close())

  // Sandbox rule: numbers ending in 0000 are not on WhatsApp; each provider answers with its own code.
  const cases = [
    { account: 'sandbox-meta', to: '+14155510000' },
    { account: 'sandbox-twilio', to: '+14155520000' },
    { account: 'sandbox-sinch', to: '+14155530000' },
    { account: 'sandbox-gupshup', to: '+14155540000' },
  ]

  it.each(cases)('$account: not on WhatsApp marks $to unreachable; the next send fails fast; after 45 days one send is tried', async ({ account, to }) => {
    const urn = `tel:${to}`
    const sim = simulatorOf(t, account)
    const unreachableEvents = async () => (await eventsOf(t, 'contact.urn_unreachable', account)).filter((e) => e.data.urn === urn)

    const first = await waitForStatus(t, await sendText(t, account, to, 'are you there?'), ['failed'])
    expect(first.error).toMatchObject({ code: 'recipient_not_on_whatsapp', retryable: false })
    expect(first.error.provider_code).toBeTruthy()
    const marked = await t.waitFor(async () => {
      const events = await unreachableEvents()
      return events.length > 0 ? events : undefined
    }, 10_000, 'contact.urn_unreachable')
    expect(marked).toHaveLength(1)
    expect(marked[0]).toMatchObject({ topic: `contact.${account}.urn_unreachable`, data: { urn, contact: { id: first.contact_id }, message_id: first.id } })
    const until = Date.parse(marked[0]?.data.until)
    expect(until - (Date.now() + offset)).toBeGreaterThan(44 * DAY)
    expect(until - (Date.now() + offset)).toBeLessThanOrEqual(45 * DAY)
    const contact = await contactByUrn(t, urn)
    expect(contact.urns.find((u: { urn: string }) => u.urn === urn)).toMatchObject({ reachable: false, unreachable_until: marked[0]?.data.until })

    await sim.idle(5_000)
    const requestsBefore = sim.stats().requests
    const fast = await waitForStatus(t, await sendText(t, account, to, 'still there?'), ['failed'])
    expect(fast.error).toMatchObject({ code: 'recipient_not_on_whatsapp' })
    expect(fast.error.provider_message).toMatch(/no provider call/)
    expect(fast.history.map((h: { status: string }) => h.status)).not.toContain('sending')
    expect(sim.stats().requests).toBe(requestsBefore)
    // Failing fast neither extends the mark nor announces it again.
    expect(await unreachableEvents()).toHaveLength(1)

    offset += 46 * DAY
    const retried = await waitForStatus(t, await sendText(t, account, to, 'back?'), ['failed'])
    expect(retried.error.provider_code).toBeTruthy()
    expect(sim.stats().requests).toBeGreaterThan(requestsBefore)
    const again = await t.waitFor(async () => {
      const events = await unreachableEvents()
      return events.length === 2 ? events : undefined
    }, 10_000, 'a second contact.urn_unreachable after the retry')
    expect(Date.parse(again[1]?.data.until)).toBeGreaterThan(until)
  })

  it('an inbound message from an unreachable URN makes it reachable again', async () => {
    const to = '+14155550000'
    await waitForStatus(t, await sendText(t, 'sandbox-meta', to, 'x'), ['failed'])
    await t.waitFor(async () => (await contactByUrn(t, `tel:${to}`))?.urns.some((u: { reachable: boolean }) => !u.reachable), 10_000, 'URN marked')
    const r = await t.api('POST', '/sandbox/sandbox-meta/inbound', { from: to, text: 'I am here after all' })
    expect(r.status).toBe(202)
    const contact = await t.waitFor(async () => {
      const c = await contactByUrn(t, `tel:${to}`)
      return c?.urns.every((u: { reachable: boolean }) => u.reachable) ? c : undefined
    }, 10_000, 'URN reachable again')
    expect(contact.urns.find((u: { urn: string }) => u.urn === `tel:${to}`)).not.toHaveProperty('unreachable_until')
  })

  /** The send is refused: at the API (422) or, for a message accepted before, by the worker without a provider call. */
  async function expectRefused(account: string, to: string, code: 'contact_blocked' | 'recipient_opted_out') {
    const sim = simulatorOf(t, account)
    await sim.idle(5_000)
    const requests = sim.stats().requests
    const res = await t.api('POST', '/v1/messages', { account, to, type: 'text', text: 'refused?' })
    if (res.status === 422) {
      expect(res.json.code).toBe(code)
    } else {
      expect(res.status).toBe(202)
      const failed = await waitForStatus(t, res.json.id, ['failed'])
      expect(failed.error).toMatchObject({ code, retryable: false })
      expect(failed.history.map((h: { status: string }) => h.status)).not.toContain('sending')
    }
    expect(sim.stats().requests).toBe(requests)
  }

  it('Sinch opt-out stops the contact for that account only, once; an opt-in clears it', async () => {
    const to = '+14155550161'
    const sinch = simulatorOf(t, 'sandbox-sinch') as SinchSimulator
    const appId = String(t.sandbox.accounts.find((a) => a.row.name === 'sandbox-sinch')?.rawConfig.app_id)
    const first = await waitForStatus(t, await sendText(t, 'sandbox-sinch', to, 'hi'), ['sent', 'delivered', 'read'])

    await sinch.optOut(appId, to)
    const optedOut = await t.waitFor(async () => {
      const events = (await eventsOf(t, 'contact.opted_out', 'sandbox-sinch')).filter((e) => e.data.contact.id === first.contact_id)
      return events.length > 0 ? events : undefined
    }, 10_000, 'contact.opted_out')
    expect(optedOut[0]?.topic).toBe('contact.sandbox-sinch.opted_out')
    const contact = await contactByUrn(t, `tel:${to}`)
    expect(contact.accounts.find((a: { account: string }) => a.account === 'sandbox-sinch')).toMatchObject({ stopped: true })
    expect(contact.blocked).toBe(false)

    await expectRefused('sandbox-sinch', to, 'recipient_opted_out')
    // Still one opt-out event: refusing a send does not announce the stop again.
    expect((await eventsOf(t, 'contact.opted_out', 'sandbox-sinch')).filter((e) => e.data.contact.id === first.contact_id)).toHaveLength(1)
    // Another account may still message the contact.
    const viaMeta = await waitForStatus(t, await sendText(t, 'sandbox-meta', to, 'from meta'), ['sent', 'delivered', 'read'])
    expect(viaMeta.contact_id).toBe(first.contact_id)

    await sinch.optIn(appId, to)
    await t.waitFor(async () => (await eventsOf(t, 'contact.opted_in', 'sandbox-sinch')).find((e) => e.data.contact.id === first.contact_id), 10_000, 'contact.opted_in')
    const cleared = await contactByUrn(t, `tel:${to}`)
    expect(cleared.accounts.find((a: { account: string }) => a.account === 'sandbox-sinch')).toMatchObject({ stopped: false })
    await waitForStatus(t, await sendText(t, 'sandbox-sinch', to, 'welcome back'), ['sent', 'delivered', 'read'])
  })

  it('Gupshup opted-out user-event stops the contact for the Gupshup account', async () => {
    const account = t.sandbox.accounts.find((a) => a.row.name === 'sandbox-gupshup')
    if (!account) throw new Error('no gupshup account')
    const body = JSON.parse(readFileSync(new URL('../fixtures/gupshup/user-event-opted-out.json', import.meta.url), 'utf8'))
    body.app = String(account.rawConfig.app_name)
    body.timestamp = Date.now()
    body.payload.phone = '14155550162'
    const res = await request(account.ctx.webhookUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
    expect(res.statusCode).toBe(200)
    await res.body.text()
    const contact = await contactByUrn(t, 'tel:+14155550162')
    expect(contact.accounts).toEqual([expect.objectContaining({ account: 'sandbox-gupshup', stopped: true, stopped_reason: 'opted_out' })])
    expect(contact.state).toBe('stopped')
    await expectRefused('sandbox-gupshup', '+14155550162', 'recipient_opted_out')
  })

  it('Twilio 21610 in a status callback stops the contact for the Twilio account', async () => {
    const account = t.sandbox.accounts.find((a) => a.row.name === 'sandbox-twilio')
    if (!account) throw new Error('no twilio account')
    const to = '+14155550163'
    const first = await waitForStatus(t, await sendText(t, 'sandbox-twilio', to, 'hi'), ['sent', 'delivered', 'read'])
    const params = Object.fromEntries(new URLSearchParams(readFileSync(new URL('../fixtures/twilio/status_failed_21610_stop.txt', import.meta.url), 'utf8').trim()))
    params.To = to
    params.AccountSid = String(account.rawConfig.account_sid)
    const url = account.ctx.webhookUrl
    const signature = twilio.getExpectedTwilioSignature(String(account.rawConfig.auth_token), url, params)
    const res = await request(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature }, body: new URLSearchParams(params).toString() })
    expect(res.statusCode).toBe(200)
    await res.body.text()
    const events = (await eventsOf(t, 'contact.opted_out', 'sandbox-twilio')).filter((e) => e.data.contact.id === first.contact_id)
    expect(events).toHaveLength(1)
    const contact = await contactByUrn(t, `tel:${to}`)
    expect(contact.accounts.find((a: { account: string }) => a.account === 'sandbox-twilio')).toMatchObject({ stopped: true })
    await expectRefused('sandbox-twilio', to, 'recipient_opted_out')
  })

  it('a block refuses every send, on every account, until unblocked; an opt-out stays distinct', async () => {
    const to = '+14155550164'
    const first = await waitForStatus(t, await sendText(t, 'sandbox-meta', to, 'hi'), ['sent', 'delivered', 'read'])
    const blocked = await t.api('POST', `/v1/contacts/${first.contact_id}/block`)
    expect(blocked.status).toBe(200)
    expect(blocked.json).toMatchObject({ id: first.contact_id, state: 'blocked', blocked: true })
    await expectRefused('sandbox-meta', to, 'contact_blocked')
    await expectRefused('sandbox-twilio', to, 'contact_blocked')

    const unblocked = await t.api('POST', `/v1/contacts/${first.contact_id}/unblock`)
    expect(unblocked.json).toMatchObject({ state: 'active', blocked: false })
    await waitForStatus(t, await sendText(t, 'sandbox-meta', to, 'again'), ['sent', 'delivered', 'read'])

    // The Gupshup contact above opted out: blocking and unblocking it leaves it stopped.
    const stopped = await contactByUrn(t, 'tel:+14155550162')
    await t.api('POST', `/v1/contacts/${stopped.id}/block`)
    const after = await t.api('POST', `/v1/contacts/${stopped.id}/unblock`)
    expect(after.json).toMatchObject({ state: 'stopped', blocked: false })
    expect(after.json.accounts[0]).toMatchObject({ stopped: true })

    const unknown = await t.api('POST', '/v1/contacts/ct_nope/block')
    expect(unknown.status).toBe(404)
    expect(unknown.json.code).toBe('unknown_contact')
  })

  it('lists contacts with paging and a state filter', async () => {
    const page1 = await t.api('GET', '/v1/contacts?limit=2')
    expect(page1.json.data).toHaveLength(2)
    expect(page1.json.next_before).toBe(page1.json.data[1].id)
    const page2 = await t.api('GET', `/v1/contacts?limit=2&before=${page1.json.next_before}`)
    expect(page2.json.data.length).toBeGreaterThan(0)
    for (const c of page2.json.data) expect(c.id < page1.json.next_before).toBe(true)
    const stopped = await t.api('GET', '/v1/contacts?state=stopped&limit=500')
    expect(stopped.json.data.map((c: { id: string }) => c.id)).toContain((await contactByUrn(t, 'tel:+14155550162')).id)
    expect(stopped.json.data.every((c: { state: string }) => c.state === 'stopped')).toBe(true)
  })
})
