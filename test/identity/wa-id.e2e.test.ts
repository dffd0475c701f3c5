import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestGateway, type TestGateway } from '../harness/gateway.js'
import { contactByUrn, digitsOf, eventsOf, inboundEvent, sendText, simulateReply, simulatorOf, waitForStatus } from './helpers.js'

/**
 * DESIGN §7 through HTTP: the sandbox simulators answer a Brazilian mobile with its eight-digit
 * wa_id (Meta in the send response, Gupshup with `mismatch` and the `destination` of `sent`, Twilio
 * and Sinch only in the contact's reply). Whatever the provider, the reply must land on the contact
 * the business wrote to, the change is announced once, and the next send goes to the wa_id.
 */
describe('wa_id learning: one person, one contact, one conversation', () => {
  let t: TestGateway
  beforeAll(async () => {
    t = await startTestGateway()
  })
  afterAll(async () => t.close())

  // One number per provider: contacts are per tenant, and all four accounts share it.
  const cases = [
    { account: 'sandbox-meta', number: '+55 35 98765-4321', e164: '+5535987654321', waId: '553587654321' },
    { account: 'sandbox-gupshup', number: '+55 21 98765-4322', e164: '+5521987654322', waId: '552187654322' },
    { account: 'sandbox-twilio', number: '+55 11 97654-3213', e164: '+5511976543213', waId: '551176543213' },
    { account: 'sandbox-sinch', number: '+55 31 98888-7777', e164: '+5531988887777', waId: '553188887777' },
  ]

  it.each(cases)('$account: send to $number, reply from $waId → one contact, same conversation, next send to the wa_id', async ({ account, number, e164, waId }) => {
    const first = await sendText(t, account, number, `first to ${e164}`)
    const sent = await waitForStatus(t, first, ['sent', 'delivered', 'read'])
    expect(sent.to).toBe(`tel:${e164}`)

    await simulateReply(t, account, `+${waId}`, `reply from ${waId}`)
    const reply = await inboundEvent(t, account, `reply from ${waId}`)
    expect(reply.data.message.contact_id).toBe(sent.contact_id)
    expect(reply.data.contact.id).toBe(sent.contact_id)

    const contact = await contactByUrn(t, `tel:${e164}`)
    expect(contact.id).toBe(sent.contact_id)
    const urns = contact.urns.map((u: { urn: string }) => u.urn)
    expect(urns).toEqual(expect.arrayContaining([`tel:${e164}`, `whatsapp:${waId}`]))
    // The eight-digit spelling of the wa_id is not a second number of this person.
    expect(urns).not.toContain(`tel:+${waId}`)
    expect(await contactByUrn(t, `whatsapp:${waId}`)).toMatchObject({ id: sent.contact_id })
    // The window opened by the reply is on the same contact.
    expect(contact.accounts).toEqual(expect.arrayContaining([expect.objectContaining({ account, window_open: true })]))

    const changed = await t.waitFor(async () => {
      const events = (await eventsOf(t, 'contact.wa_id_changed', account)).filter((e) => e.data.wa_id === waId)
      return events.length > 0 ? events : undefined
    }, 10_000, 'contact.wa_id_changed')
    expect(changed[0]?.data).toMatchObject({ phone: e164, wa_id: waId, contact: { id: sent.contact_id } })
    expect(changed[0]?.topic).toBe(`contact.${account}.wa_id_changed`)

    const sim = simulatorOf(t, account)
    const before = sim.sent().length
    const second = await sendText(t, account, e164, `second to ${e164}`)
    const again = await waitForStatus(t, second, ['sent', 'delivered', 'read'])
    expect(again.contact_id).toBe(sent.contact_id)
    const record = await t.waitFor(async () => sim.sent().slice(before).find((r) => r.providerMessageId === again.provider_message_id), 10_000, 'simulator record of the second send')
    expect(digitsOf(record.to)).toBe(waId)

    // Status webhooks of the second send repeat the wa_id: still announced only once.
    await waitForStatus(t, second, ['delivered', 'read'])
    await sim.idle(5_000)
    const all = (await eventsOf(t, 'contact.wa_id_changed', account)).filter((e) => e.data.wa_id === waId)
    expect(all).toHaveLength(1)
  })

  it('Mexico: "+52 1 55 …" is accepted as written; the wa_id without the 1 joins it and is used next', async () => {
    const first = await sendText(t, 'sandbox-meta', '+52 1 55 1234 5678', 'hola')
    const sent = await waitForStatus(t, first, ['sent', 'delivered', 'read'])
    expect(sent.to).toBe('tel:+5215512345678')

    await simulateReply(t, 'sandbox-meta', '+525512345678', 'respuesta')
    const reply = await inboundEvent(t, 'sandbox-meta', 'respuesta')
    expect(reply.data.message.contact_id).toBe(sent.contact_id)

    const contact = await contactByUrn(t, 'tel:+5215512345678')
    expect(contact.urns.map((u: { urn: string }) => u.urn)).toEqual(['tel:+5215512345678', 'whatsapp:525512345678'])
    const changed = (await eventsOf(t, 'contact.wa_id_changed', 'sandbox-meta')).filter((e) => e.data.wa_id === '525512345678')
    expect(changed.map((e) => e.data.phone)).toEqual(['+5215512345678'])

    const sim = simulatorOf(t, 'sandbox-meta')
    const second = await sendText(t, 'sandbox-meta', '+5215512345678', 'otra vez')
    const again = await waitForStatus(t, second, ['sent', 'delivered', 'read'])
    const record = await t.waitFor(async () => sim.sent().find((r) => r.providerMessageId === again.provider_message_id), 10_000, 'second send record')
    expect(record.to).toBe('525512345678')
  })

  it('the wa_id spelling of a number finds the same contact with GET /v1/contacts?urn=', async () => {
    const viaWaIdNumber = await contactByUrn(t, 'tel:+553587654321')
    const viaNumber = await contactByUrn(t, 'tel:+5535987654321')
    expect(viaWaIdNumber?.id).toBeDefined()
    expect(viaWaIdNumber.id).toBe(viaNumber.id)
    // An unencoded '+' arrives as a space: still found.
    const r = await t.api('GET', '/v1/contacts?urn=tel:+5535987654321')
    expect(r.json.data[0]?.id).toBe(viaNumber.id)
  })

  it('an inbound from an unknown wa_id joins the contact of an equivalent number (Argentina, no send before)', async () => {
    // The business created the contact by sending to the number without the mobile 9 …
    const first = await sendText(t, 'sandbox-twilio', '+54 11 2345 6789', 'hola AR')
    const sent = await waitForStatus(t, first, ['sent', 'delivered', 'read', 'failed'])
    // … and WhatsApp knows the person with it.
    await simulateReply(t, 'sandbox-twilio', '+5491123456789', 'desde AR')
    const reply = await inboundEvent(t, 'sandbox-twilio', 'desde AR')
    expect(reply.data.message.contact_id).toBe(sent.contact_id)
    const contact = await contactByUrn(t, 'whatsapp:5491123456789')
    expect(contact.id).toBe(sent.contact_id)
    const changed = (await eventsOf(t, 'contact.wa_id_changed', 'sandbox-twilio')).filter((e) => e.data.wa_id === '5491123456789')
    expect(changed.map((e) => e.data.phone)).toEqual(['+541123456789'])
  })
})
