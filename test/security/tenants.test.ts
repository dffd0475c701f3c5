import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { systemClock } from '../../src/engine/clock.js'
import { createTenant } from '../../src/engine/tenants.js'
import { startCaptureServer, type CaptureServer } from '../harness/capture-server.js'
import type { TestGateway } from '../harness/gateway.js'
import { startTestGateway } from '../harness/gateway.js'
import { fingerprint } from '../fuzz/api-support.js'
import { openStream } from '../events/helpers.js'
import { as, metaInbound, postMeta, settle, type Call } from './helpers.js'

/**
 * Issue 7, security: nothing crosses tenants. Tenant A (the default tenant, with the sandbox
 * accounts) and tenant B (created with `createTenant`, as a multi-tenant setup would) each have
 * accounts, messages, contacts, events, subscriptions and deliveries. A's key can neither read,
 * change, send as nor subscribe to anything of B's — every attempt is a 4xx that writes nothing —
 * and B's webhooks (including one at a URL whose account name A also uses) ingest into B only.
 */

const B_PNID = '200000000000002'
const B_TWIN_PNID = '200000000000003'
const bSecret = `b-app-secret-${randomBytes(8).toString('hex')}`
const bTwinSecret = `b-twin-secret-${randomBytes(8).toString('hex')}`
const B_CONTACT = '14155550177'

let t: TestGateway
let A: Call
let B: Call
let aSecret = ''
let aPnid = ''
let captureA: CaptureServer
let captureB: CaptureServer
const b = { account: '', twin: '', gupshupPath: '', msgOut: '', msgIn: '', contact: '', sub: '', delivery: '', events: [] as string[] }
let aSub = ''

beforeAll(async () => {
  t = await startTestGateway()
  A = (method, path, body) => t.api(method, path, body)
  const tenant = await createTenant(t.gw.store, systemClock, 'tenant-b')
  t.secrets.add('tenant B API key', tenant.apiKey)
  B = as(t, tenant.apiKey)
  const metaA = await t.gw.accounts.get(t.gw.tenantId, 'sandbox-meta')
  aSecret = String(metaA.rawConfig.app_secret)
  aPnid = String(metaA.rawConfig.phone_number_id)
  const metaSimUrl = String(metaA.rawConfig.base_url)

  captureA = await startCaptureServer(() => ({ status: 200 }))
  captureB = await startCaptureServer(() => ({ status: 200 }))
  aSub = (await A('POST', '/v1/subscriptions', { url: `${captureA.url}/a`, topics: ['>'] })).json.id

  const metaConfig = (pnid: string, secret: string) => ({ phone_number_id: pnid, access_token: `EAAb${randomBytes(8).toString('hex')}`, app_secret: secret, verify_token: `b-verify-${randomBytes(6).toString('hex')}`, base_url: metaSimUrl })
  const created = await B('POST', '/v1/accounts', { name: 'b-meta', provider: 'meta', phone_number: '+14155552101', config: metaConfig(B_PNID, bSecret) })
  expect(created.status, created.text).toBe(201)
  b.account = created.json.id
  // Same name as A's sandbox account: names are unique per tenant only (DESIGN §13 webhook routing by name).
  const twin = await B('POST', '/v1/accounts', { name: 'sandbox-meta', provider: 'meta', phone_number: '+14155552102', config: metaConfig(B_TWIN_PNID, bTwinSecret) })
  expect(twin.status, twin.text).toBe(201)
  b.twin = twin.json.id
  const gs = await B('POST', '/v1/accounts', { name: 'b-gupshup', provider: 'gupshup', phone_number: '+14155552103', config: { api_key: `b-gs-${randomBytes(8).toString('hex')}`, app_name: 'BApp' } })
  expect(gs.status, gs.text).toBe(201)
  b.gupshupPath = new URL(gs.json.webhook_url).pathname
  b.sub = (await B('POST', '/v1/subscriptions', { url: `${captureB.url}/b`, topics: ['>'] })).json.id

  expect((await postMeta(t, '/webhooks/meta/b-meta', metaInbound(B_PNID, B_CONTACT, 'hello B'), bSecret)).status).toBe(200)
  // B's outbound goes to the Meta simulator, which does not know B's number: it fails, terminally.
  const out = await B('POST', '/v1/messages', { account: 'b-meta', to: `+${B_CONTACT}`, type: 'text', text: 'hi from B' })
  expect(out.status, out.text).toBe(202)
  b.msgOut = out.json.id
  b.msgIn = (await B('GET', '/v1/messages?direction=in')).json.data[0].id
  b.contact = (await B('GET', `/v1/contacts?urn=${encodeURIComponent(`tel:+${B_CONTACT}`)}`)).json.data[0].id
  b.delivery = await t.waitFor(async () => (await B('GET', `/v1/subscriptions/${b.sub}/deliveries`)).json.data?.[0]?.id as string | undefined, 15_000, "B's first delivery")
  await settle(t)
  b.events = ((await B('GET', '/v1/events?limit=1000')).json.data as Array<{ id: string }>).map((e) => e.id)
  expect(b.events.length).toBeGreaterThan(1)
  // A has a life of its own: a contact wrote to A's sandbox number.
  expect((await A('POST', '/sandbox/sandbox-meta/inbound', { from: '+14155550123', text: 'hello A' })).status).toBe(202)
  await t.waitFor(async () => (await A('GET', '/v1/messages?direction=in')).json.data.length > 0, 15_000, "A's inbound")
  await settle(t)
}, 60_000)

afterAll(async () => {
  await captureA?.close()
  await captureB?.close()
  await t?.close()
})

/** A's request is refused with a 4xx (404 unless given) and the store is exactly as before. */
async function refused(method: string, path: string, body?: unknown, status: number | number[] = 404) {
  const before = await fingerprint(t)
  const res = await A(method, path, body)
  expect([status].flat(), `${method} ${path}: ${res.status} ${res.text.slice(0, 200)}`).toContain(res.status)
  expect(await fingerprint(t), `${method} ${path} wrote`).toEqual(before)
  return res
}

async function allIds(call: Call, path: string): Promise<string[]> {
  const res = await call('GET', path)
  expect(res.status, res.text).toBe(200)
  return (res.json.data as Array<{ id: string }>).map((x) => x.id)
}

describe("tenant isolation: A's key and B's things (issue 7)", () => {
  it("accounts: A cannot list, read, change or delete B's, and its own name resolves to its own", async () => {
    const listed = await A('GET', '/v1/accounts')
    expect(listed.json.data.map((a: { id: string }) => a.id)).not.toEqual(expect.arrayContaining([b.account]))
    expect(listed.json.data.map((a: { id: string }) => a.id)).not.toContain(b.twin)
    await refused('GET', `/v1/accounts/${b.account}`)
    await refused('GET', '/v1/accounts/b-meta')
    await refused('PATCH', '/v1/accounts/b-meta', { rate_limit: 1 })
    await refused('PATCH', `/v1/accounts/${b.twin}`, { config: { app_secret: 'taken-over' } })
    await refused('DELETE', `/v1/accounts/${b.account}`)
    await refused('GET', `/v1/accounts/${b.account}/templates`, undefined, [404])
    const own = await A('GET', '/v1/accounts/sandbox-meta')
    expect(own.json.id).not.toBe(b.twin)
    expect(own.json.config.phone_number_id).toBe(aPnid)
    expect((await B('GET', `/v1/accounts/${b.twin}`)).json.rate_limit).toBe(80)
  })

  it("sending: A cannot send from B's account, nor reply or react to B's messages", async () => {
    await refused('POST', '/v1/messages', { account: 'b-meta', to: '+14155550123', type: 'text', text: 'as B' })
    await refused('POST', '/v1/messages', { account: b.account, to: '+14155550123', type: 'text', text: 'as B' })
    const reply = await refused('POST', '/v1/messages', { account: 'sandbox-meta', to: `+${B_CONTACT}`, type: 'text', text: 'x', reply_to: b.msgIn }, 422)
    expect(reply.json.code).toBe('unknown_target_message')
    const reaction = await refused('POST', '/v1/messages', { account: 'sandbox-meta', to: `+${B_CONTACT}`, type: 'reaction', reaction: { message_id: b.msgOut, emoji: '👍' } }, 422)
    expect(reaction.json.code).toBe('unknown_target_message')
    await refused('POST', '/sandbox/b-meta/inbound', { from: '+14155550123', text: 'x' })
  })

  it("messages and contacts: B's are invisible to A and cannot be blocked by A", async () => {
    await refused('GET', `/v1/messages/${b.msgOut}`)
    await refused('GET', `/v1/messages/${b.msgIn}`)
    const mine = await allIds(A, '/v1/messages?limit=500')
    expect(mine.length).toBeGreaterThan(0)
    expect(mine).not.toContain(b.msgOut)
    expect(mine).not.toContain(b.msgIn)
    const byAccount = await A('GET', '/v1/messages?account=b-meta')
    expect(byAccount.status === 404 || byAccount.json.data.length === 0, byAccount.text).toBe(true)
    const byContact = await A('GET', `/v1/messages?contact=${b.contact}`)
    expect(byContact.status === 404 || byContact.json.data.length === 0, byContact.text).toBe(true)

    await refused('GET', `/v1/contacts/${b.contact}`)
    await refused('POST', `/v1/contacts/${b.contact}/block`)
    await refused('POST', `/v1/contacts/${b.contact}/unblock`)
    expect((await B('GET', `/v1/contacts/${b.contact}`)).json.state).toBe('active')
    expect((await A('GET', `/v1/contacts?urn=${encodeURIComponent(`tel:+${B_CONTACT}`)}`)).json.data).toEqual([])
    expect(await allIds(A, '/v1/contacts?limit=500')).not.toContain(b.contact)
  })

  it("events: none of B's are in A's log, whatever the filter", async () => {
    const mine = await allIds(A, '/v1/events?limit=1000')
    expect(mine.length).toBeGreaterThan(0)
    for (const id of b.events) expect(mine).not.toContain(id)
    expect((await A('GET', `/v1/events?topic=${encodeURIComponent('incoming.b-meta.>')}`)).json.data).toEqual([])
    expect((await A('GET', `/v1/events?topic=${encodeURIComponent('>')}&limit=1000`)).json.data.filter((e: { account: string }) => e.account === 'b-meta')).toEqual([])
  })

  it("subscriptions and deliveries: A cannot see or act on B's, and A's endpoint never gets B's events", async () => {
    expect(await allIds(A, '/v1/subscriptions')).not.toContain(b.sub)
    await refused('GET', `/v1/subscriptions/${b.sub}`)
    await refused('GET', `/v1/subscriptions/${b.sub}/deliveries`)
    await refused('GET', `/v1/subscriptions/${b.sub}/deliveries/${b.delivery}`)
    await refused('POST', `/v1/subscriptions/${b.sub}/deliveries/${b.delivery}/retry`)
    const cursor = encodeURIComponent((await A('GET', '/v1/events?limit=1')).json.next_cursor as string)
    await refused('POST', `/v1/subscriptions/${b.sub}/replay?from=${cursor}`)
    await refused('POST', `/v1/subscriptions/${b.sub}/enable`)
    await refused('DELETE', `/v1/subscriptions/${b.sub}`)
    // A's own subscription id with B's delivery id: the delivery is B's, not reachable through A's subscription.
    await refused('GET', `/v1/subscriptions/${aSub}/deliveries/${b.delivery}`)
    expect((await B('GET', `/v1/subscriptions/${b.sub}`)).status).toBe(200)

    // Positive control: B's endpoint got B's events; A's got A's, and not one of B's.
    expect(captureB.requests.some((r) => b.events.some((id) => r.raw.includes(id)))).toBe(true)
    await t.waitFor(async () => captureA.requests.length > 0, 15_000, "A's deliveries")
    for (const r of captureA.requests) for (const id of b.events) expect(r.raw).not.toContain(id)
    expect(captureA.requests.some((r) => r.raw.includes('b-meta') || r.raw.includes('hello B'))).toBe(false)
    const aDeliveries = (await A('GET', `/v1/subscriptions/${aSub}/deliveries?limit=200`)).json.data as Array<{ event_id: string }>
    expect(aDeliveries.length).toBeGreaterThan(0)
    for (const d of aDeliveries) {
      expect(d.event_id).toMatch(/^evt_/)
      expect(b.events).not.toContain(d.event_id)
    }
  })

  it("the SSE stream of A carries A's events and none of B's", async () => {
    const stream = await openStream(t, `?topics=${encodeURIComponent('>')}`)
    try {
      expect(stream.status).toBe(200)
      expect((await postMeta(t, '/webhooks/meta/b-meta', metaInbound(B_PNID, B_CONTACT, 'B streamed secretly'), bSecret)).status).toBe(200)
      expect((await A('POST', '/sandbox/sandbox-meta/inbound', { from: '+14155550123', text: 'A marker' })).status).toBe(202)
      await t.waitFor(async () => stream.messages.some((m) => m.data.includes('A marker')), 15_000, "A's event on A's stream")
      expect(stream.messages.filter((m) => m.data.includes('B streamed secretly') || m.data.includes('"b-meta"'))).toEqual([])
    } finally {
      await stream.close()
    }
    await settle(t)
  })

  it("B's webhook URLs ingest into B only; A's secret cannot write into B and B's cannot write into A", async () => {
    const aBefore = { messages: await allIds(A, '/v1/messages?limit=500'), events: await allIds(A, '/v1/events?limit=1000') }
    const bBefore = (await allIds(B, '/v1/messages?limit=500')).length
    // B's own account, and B's account that shares its name with A's sandbox-meta.
    expect((await postMeta(t, '/webhooks/meta/b-meta', metaInbound(B_PNID, '14155550178', 'to b-meta'), bSecret)).status).toBe(200)
    expect((await postMeta(t, '/webhooks/meta/sandbox-meta', metaInbound(B_TWIN_PNID, '14155550179', 'to B twin'), bTwinSecret)).status).toBe(200)
    // App-wide route, B's number, B's secret.
    expect((await postMeta(t, '/webhooks/meta', metaInbound(B_PNID, '14155550180', 'app-wide to B'), bSecret)).status).toBe(200)
    await settle(t)
    expect((await allIds(B, '/v1/messages?limit=500')).length).toBe(bBefore + 3)
    const bTexts = JSON.stringify((await B('GET', '/v1/messages?direction=in&limit=500')).json.data)
    for (const text of ['to b-meta', 'to B twin', 'app-wide to B']) expect(bTexts).toContain(text)
    expect(await allIds(A, '/v1/messages?limit=500')).toEqual(aBefore.messages)
    expect(await allIds(A, '/v1/events?limit=1000')).toEqual(aBefore.events)

    // Cross-tenant forgeries: each tenant knows its own secret, never the other's.
    const forged = async (path: string, body: string, secret: string) => {
      const before = await fingerprint(t)
      const res = await postMeta(t, path, body, secret)
      expect(res.status, `${path}: ${res.text.slice(0, 200)}`).toBe(401)
      expect(await fingerprint(t), `${path} wrote`).toEqual(before)
    }
    await forged('/webhooks/meta/b-meta', metaInbound(B_PNID, '14155550181', 'A into B'), aSecret)
    await forged('/webhooks/meta', metaInbound(B_PNID, '14155550182', 'A into B app-wide'), aSecret)
    await forged('/webhooks/meta', metaInbound(aPnid, '14155550183', 'B into A app-wide'), bSecret)
    await forged(`/webhooks/meta/sandbox-meta`, metaInbound(aPnid, '14155550184', 'nobody'), 'neither-tenant-secret')
    const aGupshup = await t.gw.accounts.get(t.gw.tenantId, 'sandbox-gupshup')
    const aToken = String(aGupshup.rawConfig.webhook_token)
    const bToken = b.gupshupPath.split('/').pop() as string
    for (const [path, what] of [
      [b.gupshupPath.replace(bToken, aToken), "A's token on B's account"],
      [`/webhooks/gupshup/sandbox-gupshup/${bToken}`, "B's token on A's account"],
    ] as const) {
      const before = await fingerprint(t)
      const res = await t.api('POST', path, { app: 'x', timestamp: Date.now(), version: 2, type: 'message', payload: { id: `gs${Date.now()}`, source: '14155550185', type: 'text', payload: { text: 'x' } } })
      expect(res.status, what).toBe(401)
      expect(await fingerprint(t), `${what} wrote`).toEqual(before)
    }
  })

  it("every route of the API with B's ids in its path answers A with a 4xx and writes nothing", async () => {
    const doc = (await A('GET', '/docs/json')).json as { paths: Record<string, Record<string, unknown>> }
    const valueFor = (path: string, param: string): string => {
      if (param === 'account') return 'b-meta'
      if (param === 'contact') return b.contact
      if (param === 'delivery_id') return b.delivery
      if (path.startsWith('/v1/accounts/')) return b.account
      if (path.startsWith('/v1/messages/')) return b.msgOut
      if (path.startsWith('/v1/contacts/')) return b.contact
      if (path.startsWith('/v1/subscriptions/')) return b.sub
      return 'b-meta'
    }
    const cursor = encodeURIComponent((await A('GET', '/v1/events?limit=1')).json.next_cursor as string)
    let checked = 0
    for (const [path, ops] of Object.entries(doc.paths)) {
      if (!path.includes('{') || path.startsWith('/webhooks')) continue
      for (const method of Object.keys(ops).filter((m) => ['get', 'post', 'put', 'patch', 'delete'].includes(m))) {
        const concrete = path.replace(/\{([^}]+)\}/g, (_m, p: string) => encodeURIComponent(valueFor(path, p))) + (path.endsWith('/replay') ? `?from=${cursor}` : '')
        for (const body of method === 'get' || method === 'delete' ? [undefined] : [{ ref: 'b-ref' }, { rate_limit: 5 }]) {
          const before = await fingerprint(t)
          const res = await A(method.toUpperCase(), concrete, body)
          expect(res.status >= 400 && res.status < 500, `${method.toUpperCase()} ${concrete} ${JSON.stringify(body)} → ${res.status} ${res.text.slice(0, 200)}`).toBe(true)
          expect(await fingerprint(t), `${method.toUpperCase()} ${concrete} wrote`).toEqual(before)
          checked++
        }
      }
    }
    expect(checked).toBeGreaterThan(15)
  })
})
