import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestGateway, type TestGateway } from '../harness/gateway.js'
import { call, contentTypes, expectClientProblem, fingerprint, hostileHeaders, hostilePath, hostileQuery, type Reply } from './api-support.js'
import { hostileJson, mutatedJson } from './mutate.js'
import { webhookFor } from './webhook-requests.js'

/**
 * Issue 7, fuzzing the public API of a real gateway: arbitrary and structure-mutated JSON bodies
 * (with hostile headers, content types, paths and query strings) on every write route. Never a
 * 5xx; every 4xx is problem+json; and a refused request writes nothing — checked on a fingerprint
 * of every table (row count and content), so an UPDATE would show as well as an INSERT.
 *
 * The gateway runs with role `api`: no worker and no subscription dispatcher, so nothing changes
 * the store behind the test's back (and an accepted subscription to a random URL is never called).
 */

const RUNS = Number(process.env.WAGATE_FUZZ_RUNS ?? 40)
const BODY_LIMIT = 64 * 1024

let t: TestGateway
let auth: Record<string, string>
let contactId = ''
let messageId = ''

beforeAll(async () => {
  t = await startTestGateway({ env: { WAGATE_ROLE: 'api', WAGATE_MAX_BODY_BYTES: String(BODY_LIMIT) } })
  auth = { authorization: `Bearer ${t.apiKey}` }
  // Something to point at: a contact (from a genuine inbound webhook), a message, and an account to patch.
  const w = await webhookFor(t, 'meta')
  const hook = await call(t, 'POST', w.path, w.body, w.headers(w.body))
  expect(hook.status, hook.text).toBe(200)
  const contacts = await t.api('GET', '/v1/contacts?limit=1')
  expect(contacts.json?.data?.length, contacts.text).toBe(1)
  contactId = contacts.json.data[0].id
  const sent = await t.api('POST', '/v1/messages', { account: 'sandbox-meta', to: '+14155550123', type: 'text', text: 'seed' })
  expect(sent.status, sent.text).toBe(202)
  messageId = sent.json.id
  const patchable = await t.api('POST', '/v1/accounts', { name: 'fuzz-patch', provider: 'twilio', phone_number: '+14155550999', config: { account_sid: `AC${'ab'.repeat(16)}`, auth_token: 'fuzz-patch-token' } })
  expect(patchable.status, patchable.text).toBe(201)
})
afterAll(async () => t?.close())

/** Status classes seen (`2xx`, `4xx`), so a property can show it reached both outcomes. */
const seen = new Set<string>()

/** Sends one request; asserts no 5xx, problem+json for 4xx, and no write when refused. */
async function probe(method: string, path: string, body: string | Buffer | undefined, headers: Record<string, string>): Promise<Reply> {
  const before = await fingerprint(t)
  const res = await call(t, method, path, body, headers)
  const what = `${method} ${path.slice(0, 120)} ${typeof body === 'string' ? body.slice(0, 200) : ''}`
  expectClientProblem(res, what)
  seen.add(`${Math.floor(res.status / 100)}xx`)
  if (res.status >= 400) expect(await fingerprint(t), `${what} was refused (${res.status}) but wrote`).toEqual(before)
  return res
}

const json = (v: unknown) => JSON.stringify(v) ?? 'null'

/** Positive control: each valid example is accepted, so the refusals the fuzzer sees are about its changes. */
async function accepted(method: string, path: string, examples: unknown[]) {
  for (const example of examples) {
    const res = await probe(method, path, json(example), jsonHeaders())
    expect(res.status, `${method} ${path} ${json(example)}: ${res.text.slice(0, 200)}`).toBeLessThan(300)
  }
}
const jsonHeaders = () => ({ ...auth, 'content-type': 'application/json' })

/** A body: a valid example mutated in a few places, arbitrary JSON, or bytes that are not JSON. */
function bodies(examples: unknown[]): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 5, arbitrary: fc.constantFrom(...examples).chain((e) => mutatedJson(e)).map(json) },
    { weight: 1, arbitrary: fc.constantFrom(...examples).map(json) },
    { weight: 2, arbitrary: hostileJson.map(json) },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 4 }).map(json) },
    { weight: 1, arbitrary: fc.oneof(fc.string({ maxLength: 80 }), fc.constantFrom('{', '{"a":', '[1,', '\u0000', '{"__proto__":{"x":1}}', '{"constructor":{"prototype":{}}}', 'null', '1e999', '"'.repeat(3))) },
  )
}

const to = '+14155550123'
const MESSAGES = [
  { account: 'sandbox-meta', to, type: 'text', text: 'hi', reply_ref: 'r1', metadata: { order: 42 } },
  { account: 'sandbox-twilio', to, type: 'image', media: { url: 'https://example.com/a.jpg', caption: 'c' } },
  { account: 'sandbox-sinch', to: '+5535987654321', type: 'document', media: { url: 'https://example.com/a.pdf', filename: 'a.pdf', size: 1000 } },
  { account: 'sandbox-gupshup', to, type: 'interactive', interactive: { type: 'button', body: 'b', buttons: [{ id: '1', title: 'ok' }] } },
  { account: 'sandbox-meta', to, type: 'interactive', interactive: { type: 'list', body: 'b', button: 'pick', sections: [{ title: 's', rows: [{ id: 'r', title: 't' }] }] } },
  { account: 'sandbox-meta', to, type: 'template', template: { name: 'hello_world', language: 'en_US' } },
  { account: 'sandbox-meta', to, type: 'location', location: { latitude: 1.5, longitude: 2.5, name: 'n' } },
  { account: 'sandbox-meta', to, type: 'reaction', reaction: { message_id: 'wamid.x', emoji: '👍' } },
  { account: 'sandbox-meta', to: 'US.13491208655302741918', type: 'text', text: 'to a user id' },
]

const ACCOUNTS = [
  { name: 'fz-meta', provider: 'meta', phone_number: '+14155552401', config: { phone_number_id: '9990001', access_token: 'EAAx', app_secret: 's', verify_token: 'v' } },
  { name: 'fz-twilio', provider: 'twilio', phone_number: '+14155552402', channel: 'sms', config: { account_sid: `AC${'cd'.repeat(16)}`, auth_token: 't' }, rate_limit: 10 },
  { name: 'fz-sinch', provider: 'sinch', phone_number: '+14155552403', config: { project_id: 'p', app_id: 'a', key_id: 'k', key_secret: 's', region: 'eu', webhook_secret: 'w' }, window_policy: 'reject' },
  { name: 'fz-gupshup', provider: 'gupshup', phone_number: '+14155552404', default_country: 'IN', config: { api_key: 'k', app_name: 'n' }, allow_private_media: false },
]

const PATCHES = [
  { config: { auth_token: 'other-token' } },
  { rate_limit: 20, window_policy: 'reject', default_country: 'BR' },
  { phone_number: '+14155550998', split_long_text: false, allow_private_media: true },
  { channel: 'sms', commands: true },
]

const SUBSCRIPTIONS = [
  { url: 'http://127.0.0.1:9/hooks', topics: ['message.>', 'incoming.*.from.>'], description: 'fuzz', max_in_flight: 2, timeout_ms: 1000 },
  { kind: 'redis', url: 'redis://127.0.0.1:9', topics: ['>'], stream: 'fuzz' },
  { kind: 'nats', url: 'nats://127.0.0.1:9', topics: ['contact.*.stopped'], subject_prefix: 'wagate.' },
]

describe('API fuzzing (issue 7): no 5xx, problem+json, nothing written when refused', () => {
  it('POST /v1/messages', async () => {
    await accepted('POST', '/v1/messages', MESSAGES)
    seen.clear()
    await fc.assert(
      fc.asyncProperty(bodies(MESSAGES), fc.option(fc.string({ minLength: 1, maxLength: 40 }), { nil: undefined }), async (body, key) => {
        await probe('POST', '/v1/messages', body, { ...jsonHeaders(), ...(key !== undefined ? { 'idempotency-key': key.replace(/[^\x20-\x7e]/g, '_') } : {}) })
      }),
      { numRuns: RUNS * 2 },
    )
    expect(seen).toContain('4xx')
  })

  it('POST /v1/accounts and PATCH /v1/accounts/{id}', async () => {
    await accepted('POST', '/v1/accounts', ACCOUNTS.map((a) => ({ ...a, name: `${a.name}-ok` })))
    await accepted('PATCH', '/v1/accounts/fuzz-patch', PATCHES)
    seen.clear()
    const uniqueAccounts = fc.tuple(fc.constantFrom(...ACCOUNTS), fc.stringMatching(/^[a-z0-9]{6}$/), fc.integer({ min: 1_000_000, max: 9_999_999 })).map(([a, suffix, n]) => ({
      ...a,
      name: `${a.name}-${suffix}`,
      ...(a.provider === 'meta' ? { config: { ...a.config, phone_number_id: String(n) } } : {}),
    }))
    await fc.assert(
      fc.asyncProperty(uniqueAccounts.chain((a) => bodies([a])), async (body) => {
        await probe('POST', '/v1/accounts', body, jsonHeaders())
      }),
      { numRuns: RUNS },
    )
    await fc.assert(
      fc.asyncProperty(bodies(PATCHES), fc.constantFrom('fuzz-patch', 'no-such-account', '%2e%2e', 'sandbox-nothing'), async (body, id) => {
        await probe('PATCH', `/v1/accounts/${id}`, body, jsonHeaders())
      }),
      { numRuns: RUNS },
    )
    expect(seen).toContain('4xx')
  })

  it('POST /v1/subscriptions', async () => {
    await accepted('POST', '/v1/subscriptions', SUBSCRIPTIONS)
    seen.clear()
    await fc.assert(
      fc.asyncProperty(bodies(SUBSCRIPTIONS), async (body) => {
        await probe('POST', '/v1/subscriptions', body, jsonHeaders())
      }),
      { numRuns: RUNS },
    )
    expect(seen).toContain('4xx')
  })

  it('POST /v1/contacts/{id}/block|unblock', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('block', 'unblock'), fc.oneof(fc.constant(contactId), fc.constant('ct_nothere'), fc.string({ minLength: 1, maxLength: 70 }).map(encodeURIComponent)), fc.option(bodies([{}]), { nil: undefined }), async (verb, id, body) => {
        await probe('POST', `/v1/contacts/${id}/${verb}`, body, body !== undefined ? jsonHeaders() : auth)
      }),
      { numRuns: RUNS },
    )
  })

  it('every write route of the OpenAPI document, path parameters from real and hostile ids', async () => {
    const doc = (await t.api('GET', '/docs/json')).json as { paths: Record<string, Record<string, unknown>> }
    const routes = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops)
        .filter((m) => ['post', 'put', 'patch', 'delete'].includes(m))
        .filter((m) => !path.startsWith('/webhooks') && !path.startsWith('/sandbox'))
        .map((m) => ({ method: m.toUpperCase(), path })),
    )
    expect(routes.length).toBeGreaterThan(8)
    const known = ['sandbox-meta', 'fuzz-patch', contactId, messageId, 'acc_x', '__proto__', '%00']
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...routes), fc.array(fc.oneof(fc.constantFrom(...known), fc.string({ minLength: 1, maxLength: 30 }).map(encodeURIComponent)), { minLength: 4, maxLength: 4 }), bodies([{}, MESSAGES[0], SUBSCRIPTIONS[0]]), async (route, ids, body) => {
        let i = 0
        // DELETE only with ids that name nothing real: deleting the sandbox account would starve later runs.
        const path = route.path.replace(/\{[^}]+\}/g, () => (route.method === 'DELETE' ? `zz${encodeURIComponent(ids[i++] ?? 'x')}` : (ids[i++] ?? 'x')))
        await probe(route.method, path, body, jsonHeaders())
      }),
      { numRuns: RUNS * 2 },
    )
  })

  it('a NUL character in an id, a query or a body is never a 5xx (PostgreSQL text cannot hold one)', async () => {
    await probe('GET', '/v1/messages/msg_%00', undefined, auth)
    await probe('GET', `/v1/contacts?urn=${encodeURIComponent('tel:+1415\u00005550123')}`, undefined, auth)
    await probe('POST', '/v1/subscriptions/%00/deliveries/%20/retry', '{}', jsonHeaders())
    await probe('POST', '/v1/messages', json({ ...MESSAGES[0], text: 'a\u0000b' }), jsonHeaders())
    await probe('PATCH', '/v1/accounts/fuzz-patch', json({ config: { auth_token: 'x\u0000y' } }), jsonHeaders())
  })

  it('hostile headers, content types, paths and query strings', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('GET', 'POST', 'PATCH', 'PUT', 'DELETE', 'OPTIONS', 'HEAD'), hostilePath, hostileQuery, hostileHeaders, contentTypes, fc.option(bodies(MESSAGES), { nil: undefined }), fc.boolean(), async (method, path, query, headers, type, body, authed) => {
        const withBody = body !== undefined && method !== 'GET' && method !== 'HEAD'
        await probe(method, path + query, withBody ? body : undefined, { ...headers, ...(authed ? auth : {}), ...(withBody ? { 'content-type': type } : {}) })
      }),
      { numRuns: RUNS * 3 },
    )
  })
})

describe('hostile webhooks change nothing (issue 7)', () => {
  const providers = ['meta', 'twilio', 'sinch', 'gupshup'] as const

  for (const provider of providers) {
    it(`${provider}: forged, replayed on another body, oversized, unreadable or unknown → 4xx and no write; the genuine one → 200`, async () => {
      const w = await webhookFor(t, provider, 1)
      const refused = async (what: string, path: string, body: Buffer, headers: Record<string, string>, status: number | number[]) => {
        const before = await fingerprint(t)
        const res = await probe('POST', path, body, headers)
        expect([status].flat(), `${provider} ${what}: ${res.status} ${res.text.slice(0, 200)}`).toContain(res.status)
        // Twilio's form bodies are always readable: one without a message is acknowledged (200) and ignored.
        expect(await fingerprint(t), `${provider} ${what} wrote`).toEqual(before)
      }
      if (provider === 'gupshup') await refused('wrong URL token', w.forgedPath, w.body, w.headers(w.body), 401)
      else {
        await refused('forged signature', w.path, w.body, w.forged(w.body), 401)
        await refused('no signature', w.path, w.body, { 'content-type': w.headers(w.body)['content-type'] as string }, 401)
        await refused('genuine signature of another body', w.path, w.body, w.headers(w.other), 401)
      }
      const big = Buffer.concat([w.body, Buffer.alloc(BODY_LIMIT, 0x20)])
      await refused('oversized (even if signed)', w.path, big, w.headers(big), 413)
      const garbage = Buffer.from('{"entry": [ not json')
      await refused('signed but unreadable', w.path, garbage, w.headers(garbage), provider === 'twilio' ? [400, 200] : 400)
      const notAWebhook = Buffer.from(JSON.stringify({ hello: 'world' }))
      await refused('signed JSON that is not a webhook', w.path, notAWebhook, w.headers(notAWebhook), provider === 'twilio' ? [400, 200] : 400)
      await refused('unknown account', w.path.replace(`sandbox-${provider}`, 'sandbox-nobody'), w.body, w.headers(w.body), [401, 404])

      // Positive control: the same body, genuinely signed, is taken (so the refusals above were about the request).
      const before = await fingerprint(t)
      const ok = await call(t, 'POST', w.path, w.body, w.headers(w.body))
      expect(ok.status, ok.text).toBe(200)
      expect(await fingerprint(t)).not.toEqual(before)
    })
  }

  it('arbitrary bodies and headers on every webhook route are refused without a write', async () => {
    const paths = ['/webhooks/meta', '/webhooks/meta/sandbox-meta', '/webhooks/twilio/sandbox-twilio', '/webhooks/sinch/sandbox-sinch', '/webhooks/gupshup/sandbox-gupshup/wrong-token-000000', '/webhooks/gupshup/sandbox-gupshup', '/webhooks/whatsapp/x']
    const anyBody = fc.oneof(bodies([{ object: 'whatsapp_business_account', entry: [] }]).map((s) => Buffer.from(s)), fc.uint8Array({ maxLength: 400 }).map((b) => Buffer.from(b)))
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...paths), anyBody, hostileHeaders, contentTypes, fc.constantFrom('x-hub-signature-256', 'x-twilio-signature', 'x-sinch-webhook-signature'), fc.string({ maxLength: 80 }), async (path, body, headers, type, sigHeader, sig) => {
        const res = await probe('POST', path, body, { ...headers, 'content-type': type, [sigHeader]: sig.replace(/[^\x20-\x7e]/g, '') })
        expect(res.status, `${path}: ${res.text.slice(0, 200)}`).toBeGreaterThanOrEqual(400)
      }),
      { numRuns: RUNS * 2 },
    )
  })
})
