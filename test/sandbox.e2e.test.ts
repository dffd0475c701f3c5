import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestGateway, type TestGateway } from './harness/gateway.js'

describe('sandbox quick start (what the README promises)', () => {
  let t: TestGateway
  beforeAll(async () => {
    t = await startTestGateway()
  })
  afterAll(async () => t.close())

  it.each(['sandbox-meta', 'sandbox-twilio', 'sandbox-sinch', 'sandbox-gupshup'])('%s: a text goes queued → read with its history, and a reply comes back as an event', async (account) => {
    const sent = await t.api('POST', '/v1/messages', { account, to: '+14155550123', type: 'text', text: 'Hello from wagate' })
    expect(sent.status).toBe(202)
    expect(sent.json).toMatchObject({ id: expect.stringMatching(/^msg_/), status: 'queued' })
    const read = await t.waitFor(async () => {
      const r = await t.api('GET', `/v1/messages/${sent.json.id}`)
      return r.json.status === 'read' ? r.json : undefined
    }, 10_000, `${account} message read`)
    const statuses = read.history.map((h: { status: string }) => h.status)
    expect(statuses.slice(0, 3)).toEqual(['accepted', 'queued', 'sending'])
    expect(statuses).toContain('read')
    expect(read.provider_message_id).toBeTruthy()

    const reply = await t.api('POST', `/sandbox/${account}/inbound`, { from: '+14155550123', text: `reply to ${account}` })
    expect(reply.status).toBe(202)
    const event = await t.waitFor(async () => {
      const r = await t.api('GET', `/v1/events?type=message.inbound&topic=incoming.${account}.>`)
      return r.json.data.find((e: { data: { message: { text?: string } } }) => e.data.message.text === `reply to ${account}`)
    }, 10_000, `${account} inbound event`)
    expect(event.topic).toBe(`incoming.${account}.from.+14155550123`)
    expect(event.data.contact.id).toBe(read.contact_id)
  })
})
