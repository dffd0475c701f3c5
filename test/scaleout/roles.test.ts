import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { request } from 'undici'
import { sendRequestSchema } from '../../src/engine/send-request.js'
import { metaSandbox } from '../../src/sandbox.js'
import { startCaptureServer, type CaptureServer } from '../harness/capture-server.js'
import { startTestGateway, type TestGateway } from '../harness/gateway.js'

// Roles on the embedded store (one process): `api` starts no background loop, `worker` serves no
// API. That an `api` instance's message is sent by a `worker` instance needs a shared store: see
// roles-postgres.test.ts.

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))
const send = { account: 'sandbox-meta', to: '+14155550123', type: 'text', text: 'hello from the api role' }

describe('role api', () => {
  let t: TestGateway
  let receiver: CaptureServer
  beforeAll(async () => {
    t = await startTestGateway({ env: { WAGATE_ROLE: 'api' }, sandboxes: (timings) => [metaSandbox(timings)] })
    receiver = await startCaptureServer(() => ({ status: 200 }))
  })
  afterAll(async () => {
    await receiver?.close()
    await t?.close()
  })

  it('accepts messages and serves the API and webhooks, but sends nothing and delivers nothing', async () => {
    const sub = await t.api('POST', '/v1/subscriptions', { url: `${receiver.url}/hook`, topics: ['>'] })
    expect(sub.status).toBe(201)
    const res = await t.api('POST', '/v1/messages', send)
    expect(res.status).toBe(202)
    const id = res.json.id as string
    // An inbound webhook through the sandbox is ingested here (the api role serves /webhooks).
    const inbound = await t.api('POST', '/sandbox/sandbox-meta/inbound', { from: '+14155550124', text: 'hi' })
    expect(inbound.status).toBe(202)
    await t.waitFor(async () => (await t.api('GET', '/v1/events?type=message.inbound')).json.data.length > 0, 10_000, 'the inbound event')
    // The test harness polls every 20 ms: a running worker would have sent it many times over.
    await sleep(1_500)
    const message = await t.api('GET', `/v1/messages/${id}`)
    expect(message.json.status).toBe('queued')
    const job = await t.gw.store.read.selectFrom('outbox').selectAll().where('message_id', '=', id).executeTakeFirst()
    expect(job?.lease_owner ?? null).toBeNull()
    expect(t.gw.worker.stats().sent).toBe(0)
    // No fan-out of events to the subscription either: that is the worker's job.
    const deliveries = await t.api('GET', `/v1/subscriptions/${sub.json.id}/deliveries`)
    expect(deliveries.status).toBe(200)
    expect(deliveries.json.data).toEqual([])
    expect(receiver.requests).toEqual([])
  })

  it('still answers /healthz, /readyz and /metrics', async () => {
    for (const path of ['/healthz', '/readyz', '/metrics']) expect((await request(t.url + path)).statusCode, path).toBe(200)
  })
})

describe('role worker', () => {
  let t: TestGateway
  beforeAll(async () => {
    t = await startTestGateway({ env: { WAGATE_ROLE: 'worker' }, sandboxes: (timings) => [metaSandbox(timings)] })
  })
  afterAll(async () => t?.close())

  it('serves only /healthz, /readyz and /metrics over HTTP', async () => {
    for (const path of ['/healthz', '/readyz', '/metrics']) expect((await request(t.url + path)).statusCode, path).toBe(200)
    for (const [method, path] of [
      ['GET', '/v1/messages'],
      ['POST', '/v1/messages'],
      ['GET', '/v1/events'],
      ['GET', '/v1/events/stream'],
      ['POST', '/webhooks/meta/sandbox-meta'],
      ['POST', '/sandbox/sandbox-meta/inbound'],
    ] as const) {
      const res = await t.api(method, path, method === 'POST' ? send : undefined)
      expect(res.status, `${method} ${path}`).toBe(404)
      expect(res.json.code).toBe('route_not_found')
    }
  })

  it('runs the outbox worker: a message queued in the store is sent', async () => {
    const body = sendRequestSchema.parse({ account: 'sandbox-meta', to: '+14155550125', type: 'text', text: 'from the worker role' })
    const accepted = await t.gw.messages.accept(t.gw.tenantId, body)
    const id = accepted.id
    await t.waitFor(
      async () => {
        const row = await t.gw.store.read.selectFrom('messages').select(['status', 'provider_message_id']).where('id', '=', id).executeTakeFirst()
        return row?.provider_message_id ? row : undefined
      },
      10_000,
      'the worker to send the message',
    )
    expect(t.gw.worker.stats().sent).toBeGreaterThanOrEqual(1)
  })
})
