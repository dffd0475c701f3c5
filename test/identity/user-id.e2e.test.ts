import { createHmac } from 'node:crypto'
import { readFileSync } from 'node:fs'
import twilio from 'twilio'
import { request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Account } from '../../src/engine/accounts.js'
import { startTestGateway, type TestGateway } from '../harness/gateway.js'
import { contactByUrn, eventsOf, inboundEvent, sendText, simulatorOf, waitForStatus } from './helpers.js'

/**
 * Business-scoped user ids (DESIGN §7) through HTTP, with the captured payloads of each provider
 * posted to the gateway exactly as the provider would (signed where the provider signs).
 */
const fixture = (path: string) => readFileSync(new URL(`../fixtures/${path}`, import.meta.url), 'utf8')

function accountOf(t: TestGateway, name: string): Account {
  const account = t.sandbox.accounts.find((a) => a.row.name === name)
  if (!account) throw new Error(`no sandbox account ${name}`)
  return account
}

/** A Meta webhook body signed with the account's app secret (X-Hub-Signature-256). */
async function postMeta(t: TestGateway, body: unknown) {
  const account = accountOf(t, 'sandbox-meta')
  const raw = JSON.stringify(body)
  const signature = createHmac('sha256', String(account.rawConfig.app_secret)).update(raw).digest('hex')
  const res = await request(`${t.url}/webhooks/meta/sandbox-meta`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-hub-signature-256': `sha256=${signature}` }, body: raw })
  return { status: res.statusCode, json: (await res.body.json()) as Record<string, number> }
}

/** A Meta `messages` webhook for the sandbox number, from a fixture with its ids replaced. */
function metaFixture(name: string, patch: (value: any) => void) {
  const body = JSON.parse(fixture(`meta/${name}`))
  const value = body.entry[0].changes[0].value
  value.metadata.phone_number_id = '100000000000001'
  patch(value)
  return body
}

describe('business-scoped user ids: wauser: URNs', () => {
  let t: TestGateway
  beforeAll(async () => {
    t = await startTestGateway()
  })
  afterAll(async () => t.close())

  it('a Meta message with only from_user_id creates a contact known by wauser:, never by a number', async () => {
    const body = metaFixture('webhook-text-bsuid-only-no-phone.json', (v) => {
      v.messages[0].id = 'wamid.bsuid-only-1'
    })
    const res = await postMeta(t, body)
    expect(res.status).toBe(200)
    expect(res.json.messages).toBe(1)
    const event = await inboundEvent(t, 'sandbox-meta', 'Hello World')
    expect(event.data.contact.urns).toEqual(['wauser:US.1234'])
    const contact = await contactByUrn(t, 'wauser:US.1234')
    expect(contact).toMatchObject({ id: event.data.contact.id, name: 'Kerry Fisher' })
    // The bare id finds it too, and is never read as a phone number.
    expect((await contactByUrn(t, 'US.1234'))?.id).toBe(contact.id)
    expect(contact.urns.map((u: { urn: string }) => u.urn).some((u: string) => u.startsWith('tel:'))).toBe(false)

    // The same webhook again (provider retry) is a duplicate, not a second contact.
    const again = await postMeta(t, body)
    expect(again.json.duplicates).toBe(1)
  })

  it('a contact known only by its user id can be messaged: Meta gets it in `recipient`, and its statuses apply', async () => {
    const contact = await contactByUrn(t, 'wauser:US.1234')
    const id = await sendText(t, 'sandbox-meta', 'US.1234', 'hello by user id')
    const read = await waitForStatus(t, id, ['read'])
    expect(read).toMatchObject({ to: 'wauser:US.1234', contact_id: contact.id })
    const record = simulatorOf(t, 'sandbox-meta').sent().find((r) => r.providerMessageId === read.provider_message_id)
    expect(record?.body).toMatchObject({ recipient: 'US.1234' })
    expect(record?.body).not.toHaveProperty('to')
    expect(read.history.map((h: { status: string }) => h.status)).toEqual(expect.arrayContaining(['sent', 'delivered', 'read']))
  })

  it('a provider that cannot send to user ids refuses one at the API instead of reading it as a number', async () => {
    const res = await t.api('POST', '/v1/messages', { account: 'sandbox-sinch', to: 'US.1234', type: 'text', text: 'x' })
    expect(res.status).toBe(422)
    expect(res.json.code).toBe('invalid_recipient')
    expect(res.json.detail).toMatch(/user id/)
  })

  it('a Meta message with phone and user id links them on one contact', async () => {
    const body = metaFixture('webhook-text-with-bsuid-and-wa_id.json', () => undefined)
    expect((await postMeta(t, body)).status).toBe(200)
    const event = await inboundEvent(t, 'sandbox-meta', 'Body Text')
    expect(new Set(event.data.contact.urns)).toEqual(new Set(['tel:+972987654321', 'whatsapp:972987654321', 'wauser:US.13491208655302741918']))
    for (const urn of ['tel:+972987654321', 'wauser:US.13491208655302741918']) expect((await contactByUrn(t, urn))?.id).toBe(event.data.contact.id)
  })

  it('a contact first known by user id gains the phone when a later message names both', async () => {
    const first = metaFixture('webhook-text-bsuid-only-no-phone.json', (v) => {
      v.contacts[0] = { profile: { name: 'Later Phone' }, user_id: 'US.777' }
      v.messages[0] = { ...v.messages[0], from_user_id: 'US.777', id: 'wamid.later-1', text: { body: 'only user id' } }
    })
    await postMeta(t, first)
    const before = await inboundEvent(t, 'sandbox-meta', 'only user id')
    const both = metaFixture('webhook-text-with-bsuid-and-wa_id.json', (v) => {
      v.contacts[0] = { profile: { name: 'Later Phone' }, wa_id: '14155550177', user_id: 'US.777' }
      v.messages[0] = { ...v.messages[0], from: '14155550177', id: 'wamid.later-2', text: { body: 'now with phone' } }
    })
    await postMeta(t, both)
    const after = await inboundEvent(t, 'sandbox-meta', 'now with phone')
    expect(after.data.contact.id).toBe(before.data.contact.id)
    expect(new Set(after.data.contact.urns)).toEqual(new Set(['wauser:US.777', 'tel:+14155550177', 'whatsapp:14155550177']))
  })

  it('a user id and a phone first seen as two contacts are merged when one message names both', async () => {
    const byPhone = await sendText(t, 'sandbox-meta', '+14155550188', 'to the phone')
    const phoneMessage = await waitForStatus(t, byPhone, ['sent', 'delivered', 'read'])
    const userOnly = metaFixture('webhook-text-bsuid-only-no-phone.json', (v) => {
      v.contacts[0] = { profile: { name: 'Two Halves' }, user_id: 'US.888' }
      v.messages[0] = { ...v.messages[0], from_user_id: 'US.888', id: 'wamid.merge-1', text: { body: 'user half' } }
    })
    await postMeta(t, userOnly)
    const userEvent = await inboundEvent(t, 'sandbox-meta', 'user half')
    expect(userEvent.data.contact.id).not.toBe(phoneMessage.contact_id)

    const both = metaFixture('webhook-text-with-bsuid-and-wa_id.json', (v) => {
      v.contacts[0] = { profile: { name: 'Two Halves' }, wa_id: '14155550188', user_id: 'US.888' }
      v.messages[0] = { ...v.messages[0], from: '14155550188', id: 'wamid.merge-2', text: { body: 'both halves' } }
    })
    await postMeta(t, both)
    const merged = await inboundEvent(t, 'sandbox-meta', 'both halves')
    // The older contact (created by the send) survives and holds every URN.
    expect(merged.data.contact.id).toBe(phoneMessage.contact_id)
    expect(new Set(merged.data.contact.urns)).toEqual(new Set(['tel:+14155550188', 'whatsapp:14155550188', 'wauser:US.888']))
    // The other id still resolves, to the survivor; its message moved with it.
    const old = await t.api('GET', `/v1/contacts/${userEvent.data.contact.id}`)
    expect(old.json.id).toBe(phoneMessage.contact_id)
    const moved = await t.api('GET', `/v1/messages/${userEvent.data.message.id}`)
    expect(moved.json.contact_id).toBe(phoneMessage.contact_id)
    const mergedEvents = (await eventsOf(t, 'contact.merged', 'sandbox-meta')).filter((e) => e.data.merged === userEvent.data.contact.id)
    expect(mergedEvents.map((e) => e.data.contact.id)).toEqual([phoneMessage.contact_id])
    // Listing shows the survivor only.
    const list = await t.api('GET', '/v1/contacts?limit=500')
    expect(list.json.data.map((c: { id: string }) => c.id)).not.toContain(userEvent.data.contact.id)
  })

  it('Twilio: ExternalUserId is kept as a second identity of the sender', async () => {
    const account = accountOf(t, 'sandbox-twilio')
    const params = Object.fromEntries(new URLSearchParams(fixture('twilio/inbound_bsuid_external_user_id.txt').trim()))
    params.AccountSid = String(account.rawConfig.account_sid)
    params.To = `whatsapp:${account.row.phone_number}`
    params.Body = 'twilio with user id'
    const url = account.ctx.webhookUrl
    const signature = twilio.getExpectedTwilioSignature(String(account.rawConfig.auth_token), url, params)
    const res = await request(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature }, body: new URLSearchParams(params).toString() })
    expect(res.statusCode).toBe(200)
    await res.body.text()
    const event = await inboundEvent(t, 'sandbox-twilio', 'twilio with user id')
    expect(event.data.contact.urns).toEqual(expect.arrayContaining(['tel:+14133881111', 'wauser:US.1234']))
    // US.1234 already named the Meta contact of the first test: the same person, one contact.
    expect((await contactByUrn(t, 'wauser:US.1234'))?.id).toBe(event.data.contact.id)
  })

  it('Gupshup: sender.userId is linked to the sender phone', async () => {
    const account = accountOf(t, 'sandbox-gupshup')
    const body = JSON.parse(fixture('gupshup/inbound-text-with-bsuid-userId.json'))
    body.app = String(account.rawConfig.app_name)
    body.timestamp = Date.now()
    const res = await request(account.ctx.webhookUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
    expect(res.statusCode).toBe(200)
    await res.body.text()
    const event = await inboundEvent(t, 'sandbox-gupshup', 'Hello partner portal')
    expect(event.data.contact.urns).toEqual(expect.arrayContaining(['tel:+917506080480', 'wauser:IN.1648738043044942']))
    expect((await contactByUrn(t, 'IN.1648738043044942'))?.id).toBe(event.data.contact.id)
  })
})
