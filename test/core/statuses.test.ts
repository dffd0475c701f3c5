import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { TestGateway } from '../harness/gateway.js'
import { hubSignature, listEvents, META, metaSecrets, postMetaWebhook, startMetaGateway, startSendProxy, statusWebhook, type SendProxy } from './helpers.js'

/**
 * Acceptance: status webhooks (signed, POSTed to the app-wide /webhooks/meta) move a message only
 * forward (DESIGN §2: a late `delivered` never overwrites `read`; `failed` is terminal), a repeated
 * webhook leaves one history row, and a status that arrives before the send result is recorded is
 * parked and applied when the result arrives.
 */

// The simulator's own status webhooks are pushed far out so that only the ones this test posts count.
const SILENT = { sentMs: 600_000, deliveredMs: 600_000, readMs: 600_000 }
const RECIPIENT = '14155550123'

type Message = { id: string; status: string; provider_message_id: string | null; history: Array<{ status: string; provider_status: string }> }

describe('status webhooks apply monotonically and once', () => {
  let t: TestGateway
  let phoneNumberId: string
  let appSecret: string
  beforeAll(async () => {
    t = await startMetaGateway({ timings: SILENT })
    ;({ phoneNumberId, appSecret } = await metaSecrets(t))
  })
  afterAll(async () => t.close())

  const get = async (id: string): Promise<Message> => (await t.api('GET', `/v1/messages/${id}`)).json
  const count = (m: Message, status: string) => m.history.filter((h) => h.status === status).length

  /** Sends a text and waits for the send result (status `sending`, provider id known). */
  async function sentMessage(text: string, to = `+${RECIPIENT}`): Promise<{ id: string; wamid: string }> {
    const res = await t.api('POST', '/v1/messages', { account: META, to, type: 'text', text })
    expect(res.status).toBe(202)
    const m = await t.waitFor(async () => {
      const x = await get(res.json.id)
      return x.provider_message_id ? x : undefined
    }, 10_000, 'send result')
    expect(m.status).toBe('sending')
    return { id: res.json.id, wamid: m.provider_message_id as string }
  }

  let ts = 1_760_000_000
  async function postStatus(wamid: string, status: string, recipient = RECIPIENT, errors?: unknown[]) {
    const body = statusWebhook(phoneNumberId, wamid, status, recipient, ts++, errors)
    const res = await postMetaWebhook(t, '/webhooks/meta', body, hubSignature(body, appSecret))
    expect(res.status, res.text).toBe(200)
    return res.json
  }

  const statusEventsOf = async (id: string) =>
    (await listEvents(t, 'message.status')).filter((e) => e.data.message.id === id).map((e) => e.data.message.status as string)

  it('read, then delivered, then sent: stays read, and the history has each once', async () => {
    const { id, wamid } = await sentMessage('monotonic')
    await postStatus(wamid, 'read')
    expect((await get(id)).status).toBe('read')
    await postStatus(wamid, 'delivered')
    expect((await get(id)).status).toBe('read')
    await postStatus(wamid, 'sent')
    const m = await get(id)
    expect(m.status).toBe('read')
    expect(count(m, 'read')).toBe(1)
    expect(count(m, 'delivered')).toBe(1)
    expect(count(m, 'sent')).toBe(1)
    // Subscribers saw it move forward only: no delivered / sent event after read.
    expect(await statusEventsOf(id)).toEqual(['accepted', 'sending', 'read'])
  })

  it('a failed status after read does not undo the read', async () => {
    const { id, wamid } = await sentMessage('read then failed')
    await postStatus(wamid, 'delivered')
    await postStatus(wamid, 'read')
    await postStatus(wamid, 'failed', RECIPIENT, [{ code: 131000, title: 'Something went wrong', message: 'Something went wrong', error_data: { details: 'x' } }])
    const m = await get(id)
    expect(m.status).toBe('read')
    expect(await statusEventsOf(id)).not.toContain('failed')
  })

  it('failed is terminal: a later delivered or read does not revive the message', async () => {
    const { id, wamid } = await sentMessage('failed then read', '+14155550124')
    const experiment = [{ code: 130472, title: "User's number is part of an experiment", message: "User's number is part of an experiment", error_data: { details: 'Failed to send message because this user\'s phone number is part of an experiment' } }]
    await postStatus(wamid, 'failed', '14155550124', experiment)
    let m = await get(id)
    expect(m.status).toBe('failed')
    await postStatus(wamid, 'delivered', '14155550124')
    await postStatus(wamid, 'read', '14155550124')
    m = await get(id)
    expect(m.status).toBe('failed')
    expect((m as unknown as { error: { provider_code: string } }).error.provider_code).toBe('130472')
  })

  it('the same status webhook posted 3 times (one after the other, then at once) leaves one history row and one event', async () => {
    const { id, wamid } = await sentMessage('thrice')
    const body = statusWebhook(phoneNumberId, wamid, 'delivered', RECIPIENT, 1_760_100_000)
    const sig = hubSignature(body, appSecret)
    for (let i = 0; i < 3; i++) expect((await postMetaWebhook(t, '/webhooks/meta', body, sig)).status).toBe(200)
    let m = await get(id)
    expect(m.status).toBe('delivered')
    expect(count(m, 'delivered')).toBe(1)

    const readBody = statusWebhook(phoneNumberId, wamid, 'read', RECIPIENT, 1_760_100_001)
    const readSig = hubSignature(readBody, appSecret)
    const answers = await Promise.all([0, 1, 2].map(() => postMetaWebhook(t, `/webhooks/meta/${META}`, readBody, readSig)))
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200])
    m = await get(id)
    expect(m.status).toBe('read')
    expect(count(m, 'read')).toBe(1)
    expect(count(m, 'delivered')).toBe(1)
    const events = await statusEventsOf(id)
    expect(events.filter((s) => s === 'delivered')).toHaveLength(1)
    expect(events.filter((s) => s === 'read')).toHaveLength(1)
  })
})

describe('a status that arrives before the send result is parked, then applied', () => {
  let t: TestGateway
  let proxy: SendProxy
  let phoneNumberId: string
  let appSecret: string
  const early: Array<{ status: string; answer: Record<string, number> }> = []

  beforeAll(async () => {
    t = await startMetaGateway({ timings: SILENT })
    ;({ phoneNumberId, appSecret } = await metaSecrets(t))
    const sim = t.sandbox.simulators.get(t.sandbox.accounts[0]!.row.id)!
    // Between the provider accepting the send and the gateway hearing of it, the provider's status
    // webhooks reach the gateway: read first, then delivered (Meta does not promise order).
    proxy = await startSendProxy(sim.url, async (call) => {
      if (call.status !== 200) return
      const wamid = (JSON.parse(call.responseBody) as { messages: Array<{ id: string }> }).messages[0]!.id
      let ts = 1_760_200_000
      for (const status of ['read', 'delivered']) {
        const body = statusWebhook(phoneNumberId, wamid, status, RECIPIENT, ts++)
        const res = await postMetaWebhook(t, '/webhooks/meta', body, hubSignature(body, appSecret))
        early.push({ status: `${res.status}:${status}`, answer: res.json })
      }
    })
    const patched = await t.api('PATCH', `/v1/accounts/${META}`, { config: { base_url: proxy.url } })
    expect(patched.status, patched.text).toBe(200)
  })
  afterAll(async () => {
    await t.close()
    await proxy.close()
  })

  it('statuses posted before the send result are acknowledged as parked and end on the message once the result is recorded', async () => {
    const res = await t.api('POST', '/v1/messages', { account: META, to: `+${RECIPIENT}`, type: 'text', text: 'racing statuses' })
    expect(res.status).toBe(202)
    const m: Message = await t.waitFor(async () => {
      const x = (await t.api('GET', `/v1/messages/${res.json.id}`)).json as Message
      return x.provider_message_id ? x : undefined
    }, 10_000, 'send result')
    expect(proxy.calls).toHaveLength(1)
    // Both arrived while the gateway did not know the provider id yet: durable (200) and parked.
    expect(early.map((e) => e.status)).toEqual(['200:read', '200:delivered'])
    expect(early.map((e) => e.answer.parked)).toEqual([1, 1])
    expect(early.map((e) => e.answer.statuses)).toEqual([0, 0])
    // The send result applied them in the same transaction: no simulator status was ever sent.
    expect(m.status).toBe('read')
    const statuses = m.history.map((h) => h.status)
    expect(statuses.filter((s) => s === 'read')).toHaveLength(1)
    expect(statuses.filter((s) => s === 'delivered')).toHaveLength(1)
    expect(statuses.indexOf('sending')).toBeLessThan(statuses.indexOf('read'))
    const left = await t.gw.store.read.selectFrom('parked_statuses').selectAll().execute()
    expect(left).toHaveLength(0)
  })
})
