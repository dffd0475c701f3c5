import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import twilio from 'twilio'
import { request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Account } from '../../src/engine/accounts.js'
import { twilioSandbox } from '../../src/sandbox.js'
import type { Simulator } from '../../src/simulators/types.js'
import { twilioClientFor } from '../../src/simulators/twilio/test-support.js'
import { startTestGateway, type TestGateway } from '../harness/gateway.js'

/**
 * The `twilio` npm package as a client that owes nothing to wagate: its validator checks what the
 * Twilio simulator signs on its way to the gateway, its signer produces webhooks the gateway must
 * take, and its REST client sends through the simulator. Sinch's signature vectors are checked in
 * src/providers/sinch/index.test.ts ("signature vectors") and src/simulators/sinch/signature.test.ts.
 */

type Json = Record<string, any>

interface Recorded {
  method: string
  /** Path and query as requested. */
  path: string
  headers: IncomingHttpHeaders
  body: string
}

/**
 * A recording reverse proxy in front of the gateway. Serving as WAGATE_PUBLIC_URL, it sees every
 * webhook exactly as the simulator sent it (URL, headers, bytes) before the gateway does.
 */
async function startRecordingProxy(): Promise<{ url: string; recorded: Recorded[]; target(url: string): void; close(): Promise<void> }> {
  let upstream = ''
  const recorded: Recorded[] = []
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const body = Buffer.concat(chunks)
      recorded.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: body.toString('utf8') })
      const headers: Record<string, string> = {}
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string' && k !== 'host' && k !== 'connection') headers[k] = v
      request(upstream + (req.url ?? '/'), { method: (req.method ?? 'GET') as 'GET', headers, ...(body.length > 0 ? { body } : {}) })
        .then(async (up) => {
          const text = await up.body.arrayBuffer()
          const out: Record<string, string> = {}
          for (const [k, v] of Object.entries(up.headers)) if (typeof v === 'string' && k !== 'transfer-encoding' && k !== 'connection') out[k] = v
          res.writeHead(up.statusCode, out)
          res.end(Buffer.from(text))
        })
        .catch((err: unknown) => {
          res.writeHead(502)
          res.end(String(err))
        })
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    recorded,
    target: (url) => void (upstream = url),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

let t: TestGateway
let proxy: Awaited<ReturnType<typeof startRecordingProxy>>
let account: Account
let sim: Simulator
let authToken: string
let webhookUrl: string

beforeAll(async () => {
  proxy = await startRecordingProxy()
  t = await startTestGateway({ sandboxes: (timings) => [twilioSandbox(timings)], env: { WAGATE_PUBLIC_URL: proxy.url } })
  const { port } = t.gw.app.server.address() as AddressInfo
  proxy.target(`http://127.0.0.1:${port}`)
  const found = t.sandbox.accounts.find((a) => a.row.name === 'sandbox-twilio')
  if (!found) throw new Error('no sandbox-twilio account')
  account = found
  const foundSim = t.sandbox.simulators.get(account.row.id)
  if (!foundSim) throw new Error('no Twilio simulator')
  sim = foundSim
  authToken = String(account.rawConfig.auth_token)
  webhookUrl = String((await t.api('GET', '/v1/accounts/sandbox-twilio')).json.webhook_url)
})
afterAll(async () => {
  await t?.close()
  await proxy?.close()
})

const formOf = (r: Recorded) => Object.fromEntries(new URLSearchParams(r.body))
const waitRead = (id: string) =>
  t.waitFor(async () => {
    const m = (await t.api('GET', `/v1/messages/${id}`)).json as Json
    return m.status === 'read' ? m : undefined
  }, 15_000, `${id} read`)

describe('twilio.validateRequest accepts what the Twilio simulator signs for the gateway', () => {
  it('status callbacks, at the adapter StatusCallback URL with wagate_id in its query', async () => {
    const sent = await t.api('POST', '/v1/messages', { account: 'sandbox-twilio', to: '+14155553101', type: 'text', text: 'validate me' })
    expect(sent.status).toBe(202)
    const read = await waitRead(sent.json.id)
    await sim.idle(5_000)
    const callbacks = proxy.recorded.filter((r) => r.path.startsWith('/webhooks/twilio/sandbox-twilio') && formOf(r).MessageSid === read.provider_message_id)
    expect(callbacks.map((r) => formOf(r).MessageStatus).sort()).toEqual(['delivered', 'read', 'sent'])
    for (const cb of callbacks) {
      expect(cb.path).toBe(`/webhooks/twilio/sandbox-twilio?wagate_id=${sent.json.id}`)
      const url = proxy.url + cb.path
      const signature = String(cb.headers['x-twilio-signature'])
      expect(twilio.validateRequest(authToken, signature, url, formOf(cb))).toBe(true)
      // Signed over the query too: the URL without it does not validate.
      expect(twilio.validateRequest(authToken, signature, webhookUrl, formOf(cb))).toBe(false)
      expect(twilio.validateRequest(`${authToken}x`, signature, url, formOf(cb))).toBe(false)
    }
  })

  it('the simulator counts the send once by its wagate_id: no duplicates', async () => {
    const sent = await t.api('POST', '/v1/messages', { account: 'sandbox-twilio', to: '+14155553102', type: 'text', text: 'count me' })
    const read = await waitRead(sent.json.id)
    const record = sim.sent().find((r) => r.providerMessageId === read.provider_message_id)
    expect(record?.clientRef).toBe(sent.json.id)
    expect(sim.stats().duplicates).toBe(0)
  })

  it('an inbound message from a simulated contact', async () => {
    const text = 'inbound for validateRequest'
    const res = await t.api('POST', '/sandbox/sandbox-twilio/inbound', { from: '+14155553103', text })
    expect(res.status).toBe(202)
    await sim.idle(5_000)
    const inbound = proxy.recorded.find((r) => r.path === '/webhooks/twilio/sandbox-twilio' && formOf(r).Body === text)
    expect(inbound).toBeDefined()
    if (!inbound) return
    expect(formOf(inbound).MessageSid).toBe(res.json.provider_message_id)
    expect(twilio.validateRequest(authToken, String(inbound.headers['x-twilio-signature']), webhookUrl, formOf(inbound))).toBe(true)
    expect(twilio.validateRequest(authToken, String(inbound.headers['x-twilio-signature']), webhookUrl, { ...formOf(inbound), Body: 'tampered' })).toBe(false)
  })
})

describe('the gateway accepts a webhook signed by twilio.getExpectedTwilioSignature', () => {
  it('an inbound message signed for the account webhook URL is taken and becomes message.inbound', async () => {
    const sid = `SM${'5a'.repeat(16)}`
    const params = {
      MessageSid: sid,
      SmsMessageSid: sid,
      SmsSid: sid,
      AccountSid: String(account.rawConfig.account_sid),
      From: 'whatsapp:+14155553104',
      To: `whatsapp:${account.row.phone_number}`,
      Body: 'signed by the twilio package',
      NumMedia: '0',
      NumSegments: '1',
      WaId: '14155553104',
      ProfileName: 'Package Signer',
      SmsStatus: 'received',
      ApiVersion: '2010-04-01',
    }
    const signature = twilio.getExpectedTwilioSignature(authToken, webhookUrl, params)
    const res = await request(webhookUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature },
      body: new URLSearchParams(params).toString(),
    })
    const answer = await res.body.text()
    expect(res.statusCode).toBe(200)
    expect(answer).toContain('<Response')
    const event = await t.waitFor(async () => {
      const r = await t.api('GET', '/v1/events?type=message.inbound&topic=incoming.sandbox-twilio.>&limit=1000')
      return (r.json.data as Json[]).find((e) => e.data.message.text === params.Body)
    }, 10_000, 'inbound event')
    expect(event.topic).toBe('incoming.sandbox-twilio.from.+14155553104')
    expect(event.data.message.provider_message_id).toBe(sid)

    // The same request signed with another token is refused.
    const forged = await request(webhookUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': twilio.getExpectedTwilioSignature('not-the-token', webhookUrl, { ...params, MessageSid: `SM${'6b'.repeat(16)}` }) },
      body: new URLSearchParams({ ...params, MessageSid: `SM${'6b'.repeat(16)}` }).toString(),
    })
    expect(forged.statusCode).toBe(401)
    expect((JSON.parse(await forged.body.text()) as Json).code).toBe('invalid_signature')
  })

  it('a status callback signed for a StatusCallback URL with a query advances the message', async () => {
    // A message the gateway sent, then a `read` callback signed by the package over URL + query.
    const sent = await t.api('POST', '/v1/messages', { account: 'sandbox-twilio', to: '+14155553105', type: 'text', text: 'callback target' })
    const sending = await t.waitFor(async () => {
      const m = (await t.api('GET', `/v1/messages/${sent.json.id}`)).json as Json
      return m.provider_message_id ? m : undefined
    }, 10_000, 'provider id')
    const url = `${webhookUrl}?wagate_id=${sent.json.id}`
    const params = { MessageSid: sending.provider_message_id, MessageStatus: 'read', EventType: 'READ', AccountSid: String(account.rawConfig.account_sid), To: 'whatsapp:+14155553105', From: `whatsapp:${account.row.phone_number}`, ApiVersion: '2010-04-01', ChannelPrefix: 'whatsapp' }
    const res = await request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': twilio.getExpectedTwilioSignature(authToken, url, params) },
      body: new URLSearchParams(params).toString(),
    })
    await res.body.text()
    expect(res.statusCode).toBe(200)
    await waitRead(sent.json.id)
  })
})

describe('the twilio REST client pointed at the Twilio simulator', () => {
  it('creates a WhatsApp message (201 Message resource) and can fetch it as it progresses', async () => {
    const client = twilioClientFor(sim.url, String(account.rawConfig.account_sid), authToken)
    const before = sim.sent().length
    const message = await client.messages.create({ from: `whatsapp:${account.row.phone_number}`, to: 'whatsapp:+14155553106', body: 'from the twilio package' })
    expect(message.sid).toMatch(/^SM[0-9a-f]{32}$/)
    expect(message.status).toBe('queued')
    expect(message.direction).toBe('outbound-api')
    expect(message.to).toBe('whatsapp:+14155553106')
    expect(message.body).toBe('from the twilio package')
    expect(sim.sent().length).toBe(before + 1)
    expect(sim.sent().at(-1)).toMatchObject({ providerMessageId: message.sid, type: 'text' })
    const later = await t.waitFor(async () => {
      const fetched = await client.messages(message.sid).fetch()
      return fetched.status === 'read' ? fetched : undefined
    }, 10_000, 'fetched message read')
    expect(later.sid).toBe(message.sid)
  })

  it('sends media and a Content template the way the package encodes them', async () => {
    const client = twilioClientFor(sim.url, String(account.rawConfig.account_sid), authToken)
    const media = await client.messages.create({ from: `whatsapp:${account.row.phone_number}`, to: 'whatsapp:+14155553107', mediaUrl: ['https://media.example.com/a.jpg'], body: 'caption' })
    const template = await client.messages.create({
      from: `whatsapp:${account.row.phone_number}`,
      to: 'whatsapp:+14155553107',
      contentSid: `HX${'ab'.repeat(16)}`,
      contentVariables: JSON.stringify({ 1: 'Ana' }),
    })
    const types = Object.fromEntries(sim.sent().map((r) => [r.providerMessageId, r.type]))
    expect(types[media.sid]).toBe('media')
    expect(types[template.sid]).toBe('template')
  })

  it('a wrong token is refused with Twilio error 20003, surfaced by the package as a RestException', async () => {
    const client = twilioClientFor(sim.url, String(account.rawConfig.account_sid), 'wrong-token')
    await expect(client.messages.create({ from: `whatsapp:${account.row.phone_number}`, to: 'whatsapp:+14155553108', body: 'nope' })).rejects.toMatchObject({ status: 401, code: 20003 })
  })
})
