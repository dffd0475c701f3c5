import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { appendEvent, eventBus } from '../../src/engine/events.js'
import { createTenant } from '../../src/engine/tenants.js'
import { metaSandbox } from '../../src/sandbox.js'
import { startCaptureServer, type CaptureServer } from '../harness/capture-server.js'
import { startTestGateway, type TestGateway } from '../harness/gateway.js'
import { createRule } from './helpers.js'

/** The rules API: validation as problem+json 4xx, what is stored and shown, tenants kept apart. */
describe('rules API', () => {
  let t: TestGateway
  let receiver: CaptureServer
  beforeAll(async () => {
    t = await startTestGateway({ sandboxes: (timings) => [metaSandbox(timings)] })
    receiver = await startCaptureServer(() => ({ status: 204 }))
  })
  afterAll(async () => {
    await t?.close()
    await receiver?.close()
  })

  const valid = { name: 'ok', topics: ['message.*.failed'], actions: [{ type: 'stop_contact' }] }

  it.each([
    ['no actions', { ...valid, actions: [] }, 'body.actions'],
    ['an unknown action', { ...valid, actions: [{ type: 'launch_rocket' }] }, 'body.actions.0.type'],
    ['a bad name', { ...valid, name: 'Not OK!' }, 'body.name'],
    ['an invalid topic pattern', { ...valid, topics: ['message.>.x'] }, 'body.topics.0'],
    ['a rule.* topic', { ...valid, topics: ['rule.>'] }, 'body.topics.0'],
    ['an unquoted string condition', { ...valid, conditions: ['data.message.error.code == recipient_not_on_whatsapp'] }, 'body.conditions.0'],
    ['an object condition with a wrong value', { ...valid, conditions: [{ path: 'data.x', op: 'in', value: 'a' }] }, 'body.conditions.0'],
    ['two fallbacks', { ...valid, actions: [{ type: 'fallback_send', account: 'sandbox-meta' }, { type: 'fallback_send', account: 'sandbox-meta' }] }, 'body.actions'],
    ['a bad literal URN', { ...valid, actions: [{ type: 'add_urn', urn: 'tel:12' }] }, 'body.actions.0.urn'],
    ['a webhook without URL', { ...valid, actions: [{ type: 'webhook' }] }, 'body.actions.0.url'],
    ['an unknown field', { ...valid, when: 'always' }, 'body'],
  ])('refuses %s with a 400 problem naming the field', async (_what, body, field) => {
    const res = await t.api('POST', '/v1/rules', body)
    expect(res.status).toBe(400)
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/)
    expect(res.json.code).toBe('invalid_request')
    expect(res.json.errors.map((e: { path: string }) => e.path)).toContain(field)
  })

  it('refuses a fallback through an account the tenant does not have (404) and a name already used (409)', async () => {
    const unknown = await t.api('POST', '/v1/rules', { ...valid, name: 'no-such', actions: [{ type: 'fallback_send', account: 'nope' }] })
    expect(unknown.status).toBe(404)
    expect(unknown.json.code).toBe('unknown_account')
    await createRule(t, { ...valid, name: 'taken' })
    const again = await t.api('POST', '/v1/rules', { ...valid, name: 'taken' })
    expect(again.status).toBe(409)
    expect(again.json.code).toBe('rule_name_taken')
  })

  it('stores string conditions in object form, shows the secret once, lists, gets and deletes', async () => {
    const created = await t.api('POST', '/v1/rules', {
      name: 'shown',
      description: 'SMS when WhatsApp cannot',
      // No event here has this topic: the public webhook is never called.
      topics: ['never.failed'],
      conditions: ['data.message.error.code in ["recipient_not_on_whatsapp", "recipient_opted_out"]', { path: 'data.message.type', op: 'ne', value: 'reaction' }],
      actions: [{ type: 'fallback_send', account: 'sandbox-meta', text: 'Sorry: {{data.message.error.code}}' }, { type: 'webhook', url: 'https://hooks.example.com/x', timeout_ms: 2000 }],
    })
    expect(created.status).toBe(201)
    expect(created.json).toMatchObject({
      id: expect.stringMatching(/^rule_/),
      name: 'shown',
      secret: expect.stringMatching(/^whsec_/),
      conditions: [
        { path: 'data.message.error.code', op: 'in', value: ['recipient_not_on_whatsapp', 'recipient_opted_out'] },
        { path: 'data.message.type', op: 'ne', value: 'reaction' },
      ],
      actions: [{ type: 'fallback_send', account: 'sandbox-meta', text: 'Sorry: {{data.message.error.code}}' }, { type: 'webhook', url: 'https://hooks.example.com/x', timeout_ms: 2000 }],
    })
    const id = created.json.id as string
    const got = await t.api('GET', `/v1/rules/${id}`)
    expect(got.status).toBe(200)
    expect(got.json).not.toHaveProperty('secret')
    expect(got.json.runs).toEqual({ fired: 0, failed: 0, last_run_at: null })
    expect(got.text).not.toContain(created.json.secret)
    const list = await t.api('GET', '/v1/rules')
    expect(list.json.data.map((r: { id: string }) => r.id)).toContain(id)
    expect(list.text).not.toContain(created.json.secret)
    expect((await t.api('DELETE', `/v1/rules/${id}`)).status).toBe(204)
    expect((await t.api('GET', `/v1/rules/${id}`)).status).toBe(404)
    expect((await t.api('DELETE', `/v1/rules/${id}`)).json.code).toBe('not_found')
  })

  it('keeps tenants apart: no reading, deleting or running across tenants', async () => {
    const other = await createTenant(t.gw.store, { now: () => Date.now() }, `other-${Date.now()}`)
    const as = { authorization: `Bearer ${other.apiKey}` }
    const mine = await createRule(t, { name: 'mine', topics: ['test.>'], actions: [{ type: 'webhook', url: `${receiver.url}/mine` }] })
    expect((await t.api('GET', `/v1/rules/${mine.id}`, undefined, as)).status).toBe(404)
    expect((await t.api('GET', `/v1/rules/${mine.id}/runs`, undefined, as)).status).toBe(404)
    expect((await t.api('DELETE', `/v1/rules/${mine.id}`, undefined, as)).status).toBe(404)
    expect((await t.api('GET', '/v1/rules', undefined, as)).json.data).toEqual([])
    // The other tenant cannot fall back through this tenant's account.
    const borrowed = await t.api('POST', '/v1/rules', { name: 'borrow', topics: ['>'], actions: [{ type: 'fallback_send', account: 'sandbox-meta' }] }, as)
    expect(borrowed.json.code).toBe('unknown_account')
    // The same name is free in another tenant, and its rule never sees this tenant's events.
    const theirs = await t.api('POST', '/v1/rules', { name: 'mine', topics: ['test.>'], actions: [{ type: 'webhook', url: `${receiver.url}/theirs` }] }, as)
    expect(theirs.status).toBe(201)

    await t.gw.store.write((tx) => appendEvent(tx, { tenantId: t.gw.tenantId, type: 'test.tick', topic: 'test.tick', account: null, data: { n: 1 } }, Date.now()))
    eventBus.emit('event')
    await t.waitFor(async () => (await t.api('GET', `/v1/rules/${mine.id}`)).json.runs.fired === 1, 10_000, 'my rule to fire')
    expect(receiver.requests.filter((r) => r.path === '/mine')).toHaveLength(1)
    expect(receiver.requests.filter((r) => r.path === '/theirs')).toHaveLength(0)
    expect((await t.api('GET', `/v1/rules/${theirs.json.id}`, undefined, as)).json.runs.fired).toBe(0)

    // The runs are counted in /metrics, beside the delivery figures.
    const metrics = await t.api('GET', '/metrics')
    expect(Number(/wagate_rule_runs_fired_total (\d+)/.exec(metrics.text)?.[1])).toBeGreaterThanOrEqual(1)
    for (const name of ['wagate_rule_runs_failed_total', 'wagate_deliveries_pending', 'wagate_deliveries_delivered_total', 'wagate_deliveries_failed_total', 'wagate_delivery_attempts_total', 'wagate_sink_publishes_total']) {
      expect(metrics.text).toMatch(new RegExp(`^${name} \\d+$`, 'm'))
    }
    // and the process's memory beside them, in bytes: resident ≥ heap in use < heap limit
    const gauge = (name: string) => Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(metrics.text)?.[1])
    expect(gauge('process_resident_memory_bytes')).toBeGreaterThan(gauge('nodejs_heap_used_bytes'))
    expect(gauge('nodejs_heap_used_bytes')).toBeGreaterThan(1_000_000)
    expect(gauge('nodejs_heap_size_limit_bytes')).toBeGreaterThan(gauge('nodejs_heap_used_bytes'))
  })
})

describe('webhook URLs on private addresses', () => {
  let t: TestGateway
  beforeAll(async () => {
    t = await startTestGateway({ sandboxes: (timings) => [metaSandbox(timings)], env: { WAGATE_ALLOW_PRIVATE_WEBHOOKS: 'false' } })
  })
  afterAll(async () => t?.close())

  it.each(['http://127.0.0.1:8080/hook', 'http://10.1.2.3/hook', 'http://localhost/hook', 'http://[::1]/hook', 'https://192.168.1.10/x'])('refuses %s for subscriptions and rule webhooks (422 webhook_url_refused)', async (url) => {
    const sub = await t.api('POST', '/v1/subscriptions', { url, topics: ['>'] })
    expect(sub.status).toBe(422)
    expect(sub.headers['content-type']).toMatch(/application\/problem\+json/)
    expect(sub.json.code).toBe('webhook_url_refused')
    const rule = await t.api('POST', '/v1/rules', { name: 'private', topics: ['>'], actions: [{ type: 'webhook', url }] })
    expect(rule.status).toBe(422)
    expect(rule.json.code).toBe('webhook_url_refused')
    expect(rule.json.detail).toMatch(/actions\.0\.url/)
  })

  it('accepts public webhook URLs, and broker sinks on the private network', async () => {
    // Topics no event has here: nothing is ever sent beyond loopback.
    expect((await t.api('POST', '/v1/subscriptions', { url: 'https://hooks.example.com/in', topics: ['never.>'] })).status).toBe(201)
    expect((await t.api('POST', '/v1/rules', { name: 'public', topics: ['never.>'], actions: [{ type: 'webhook', url: 'https://hooks.example.com/r' }] })).status).toBe(201)
    expect((await t.api('POST', '/v1/subscriptions', { kind: 'redis', url: 'redis://10.0.0.5:6379', topics: ['never.>'] })).status).toBe(201)
  })
})
