import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { metaSandbox, twilioSandbox } from '../../src/sandbox.js'
import { startTestGateway, type TestGateway } from '../harness/gateway.js'
import { simulatorOf } from '../identity/helpers.js'
import { metaText, sentTo, waitAll } from './window-helpers.js'

/**
 * The template registry (DESIGN §8) and `{{variables}}` through the API: Meta's templates come from
 * the simulator's message_templates; sends are checked before any provider call; a provider without
 * a listing API has a registry filled by hand, and an empty registry checks nothing.
 */
const META = 'sandbox-meta'
const TWILIO = 'sandbox-twilio'
const TWILIO_SID = `HX${'0123456789abcdef'.repeat(2)}`

const orderUpdate = (...body: string[]) => ({
  type: 'template',
  template: { name: 'order_update', language: 'en_US', components: [{ type: 'body', parameters: body.map((text) => ({ type: 'text', text })) }] },
})

describe('templates and variables', () => {
  let t: TestGateway
  beforeAll(async () => {
    t = await startTestGateway({ sandboxes: (timings) => [metaSandbox(timings), twilioSandbox(timings)] })
  })
  afterAll(async () => t.close())

  const messageCount = async (account: string) => (await t.api('GET', `/v1/messages?account=${account}&limit=500`)).json.data.length as number

  it('a sandbox Meta account starts with its simulator’s templates and their parameter counts', async () => {
    const r = await t.api('GET', `/v1/accounts/${META}/templates`)
    expect(r.status).toBe(200)
    const byName = Object.fromEntries((r.json.data as any[]).map((x) => [x.name, x]))
    expect(Object.keys(byName).sort()).toEqual(['hello_world', 'interaction_request', 'order_update', 'revive_issue'])
    expect(byName.order_update).toMatchObject({ language: 'en_US', category: 'UTILITY', status: 'APPROVED', source: 'sync', parameters: { header: 0, body: 2, buttons: [{ index: 0, type: 'quick_reply', parameters: 0 }] } })
    expect(byName.revive_issue.parameters).toEqual({ header: 1, body: 2, buttons: [{ index: 0, type: 'quick_reply', parameters: 0 }, { index: 1, type: 'url', parameters: 1 }] })
  })

  it('sync reads message_templates from the provider; stale synced entries go, registered ones stay', async () => {
    const sim = simulatorOf(t, META)
    const custom = await t.api('POST', `/v1/accounts/${META}/templates`, { name: 'my_custom', language: 'pt_BR', category: 'marketing', components: [{ type: 'BODY', text: 'Olá {{nome}}' }] })
    expect(custom.status).toBe(201)
    expect(custom.json).toMatchObject({ name: 'my_custom', category: 'MARKETING', source: 'api', parameters: { body: 1 } })
    // The registry lost three synced templates (as if the provider had deleted them)…
    const first = (await t.api('GET', `/v1/accounts/${META}/templates?name=hello_world`)).json.data
    await t.gw.templates.replaceSynced(t.gw.tenantId, META, [{ name: 'hello_world', language: 'en_US', category: 'UTILITY', status: 'APPROVED', components: first[0].components }])
    expect((await t.api('GET', `/v1/accounts/${META}/templates`)).json.data.map((x: { name: string }) => x.name).sort()).toEqual(['hello_world', 'my_custom'])
    // …and a sync over the Graph API brings the provider's list back.
    const before = sim.stats().requests
    const r = await t.api('POST', `/v1/accounts/${META}/templates/sync`)
    expect(r.status, r.text).toBe(200)
    expect(r.json).toMatchObject({ synced: 4, removed: 0 })
    expect(sim.stats().requests).toBe(before + 1)
    expect(r.json.data.map((x: { name: string }) => x.name).sort()).toEqual(['hello_world', 'interaction_request', 'my_custom', 'order_update', 'revive_issue'])
  })

  it.each([
    ['a wrong parameter count', orderUpdate('Ana'), /body takes 2 parameters; the request gives 1/],
    ['an unknown name', { type: 'template', template: { name: 'no_such_template', language: 'en_US' } }, /no template "no_such_template"/],
    ['an unknown language', { type: 'template', template: { name: 'order_update', language: 'pt_BR', components: orderUpdate('a', 'b').template.components } }, /no "pt_BR" translation; registered: en_US/],
    ['a missing URL button variable', { type: 'template', template: { name: 'revive_issue', language: 'en_US', components: [{ type: 'header', parameters: [{ type: 'image', url: 'https://foo.bar/a.jpg' }] }, { type: 'body', parameters: [{ type: 'text', text: 'a' }, { type: 'text', text: 'b' }] }] } }, /button 1 \(url\)/],
  ])('%s is refused with template_invalid before any provider call', async (_what, body, detail) => {
    const sim = simulatorOf(t, META)
    await sim.idle(5_000)
    const requests = sim.stats().requests
    const messages = await messageCount(META)
    const r = await t.api('POST', '/v1/messages', { account: META, to: '+14155550301', ...body })
    expect(r.status).toBe(422)
    expect(r.json.code).toBe('template_invalid')
    expect(r.json.detail).toMatch(detail)
    await new Promise((res) => setTimeout(res, 200))
    expect(sim.stats().requests).toBe(requests)
    expect(await messageCount(META)).toBe(messages)
  })

  it('the right parameters go out and are read; {{variables}} fill template text parameters', async () => {
    const r = await t.api('POST', '/v1/messages', { account: META, to: '+14155550302', ...orderUpdate('{{first}}', '#{{order}}'), variables: { first: 'Ana', order: '1234' } })
    expect(r.status, r.text).toBe(202)
    expect((await waitAll(t, [r.json.id], ['read', 'failed']))[0].status).toBe('read')
    const record = sentTo(t, META, '+14155550302').find((x) => x.type === 'template')
    expect((record?.body as any).template.components[0].parameters.map((p: { text: string }) => p.text)).toEqual(['Ana', '#1234'])
  })

  it('a template the registry has but not approved is refused', async () => {
    await t.api('POST', `/v1/accounts/${META}/templates`, { name: 'pending_one', language: 'en_US', status: 'PENDING' })
    const r = await t.api('POST', '/v1/messages', { account: META, to: '+14155550303', type: 'template', template: { name: 'pending_one', language: 'en_US' } })
    expect(r.status).toBe(422)
    expect(r.json.detail).toMatch(/PENDING, not APPROVED/)
  })

  it('a provider without a listing API: no sync, an empty registry checks nothing, a filled one is enforced', async () => {
    const sync = await t.api('POST', `/v1/accounts/${TWILIO}/templates/sync`)
    expect(sync.status).toBe(422)
    expect(sync.json.code).toBe('template_sync_unavailable')
    expect((await t.api('GET', `/v1/accounts/${TWILIO}/templates`)).json.data).toEqual([])

    const twoParams = { account: TWILIO, to: '+14155550304', type: 'template', template: { name: TWILIO_SID, language: 'en', components: [{ type: 'body', parameters: [{ type: 'text', text: 'Ana' }, { type: 'text', text: 'Bo' }] }] } }
    expect((await t.api('POST', '/v1/messages', twoParams)).status).toBe(202)

    const reg = await t.api('POST', `/v1/accounts/${TWILIO}/templates`, { name: TWILIO_SID, language: 'en', body_parameters: 1 })
    expect(reg.status).toBe(201)
    expect(reg.json).toMatchObject({ account: TWILIO, name: TWILIO_SID, parameters: { header: 0, body: 1, buttons: [] }, source: 'api', components: null })
    const refused = await t.api('POST', '/v1/messages', twoParams)
    expect(refused.status).toBe(422)
    expect(refused.json.code).toBe('template_invalid')
    const ok = await t.api('POST', '/v1/messages', { ...twoParams, template: { ...twoParams.template, components: [{ type: 'body', parameters: [{ type: 'text', text: 'Ana' }] }] } })
    expect(ok.status).toBe(202)

    expect((await t.api('DELETE', `/v1/accounts/${TWILIO}/templates/${TWILIO_SID}?language=en`)).status).toBe(204)
    const again = await t.api('DELETE', `/v1/accounts/${TWILIO}/templates/${TWILIO_SID}`)
    expect(again.status).toBe(404)
    expect(again.json.code).toBe('unknown_template')
    expect((await t.api('POST', '/v1/messages', twoParams)).status).toBe(202)
  })

  it('{{variables}} fill text; a missing one is a 422 naming it; without variables braces go out as written', async () => {
    const to = '+14155550305'
    const filled = await t.api('POST', '/v1/messages', { account: META, to, type: 'text', text: 'Hi {{name}}, your code is {{ code }}', variables: { name: 'Ana', code: '42' } })
    expect(filled.status, filled.text).toBe(202)
    const missing = await t.api('POST', '/v1/messages', { account: META, to, type: 'text', text: 'Hi {{name}} {{surname}}', variables: { name: 'Ana' } })
    expect(missing.status).toBe(422)
    expect(missing.json).toMatchObject({ code: 'missing_variable', missing: ['surname'] })
    const literal = await t.api('POST', '/v1/messages', { account: META, to, type: 'text', text: 'use {{name}} in templates' })
    expect(literal.status).toBe(202)
    const bad = await t.api('POST', '/v1/messages', { account: META, to, type: 'text', text: 'x', variables: { 'no spaces': 'y' } })
    expect(bad.status).toBe(400)
    await waitAll(t, [filled.json.id, literal.json.id], ['read', 'failed'])
    expect(sentTo(t, META, to).map((r) => metaText(r.body))).toEqual(['Hi Ana, your code is 42', 'use {{name}} in templates'])
    expect((await t.api('GET', `/v1/messages/${filled.json.id}`)).json.text).toBe('Hi Ana, your code is 42')
  })
})
