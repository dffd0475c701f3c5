import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { metaSandbox } from '../../src/sandbox.js'
import { startTestGateway, type TestGateway } from '../harness/gateway.js'
import { contactByUrn, eventsOf, simulatorOf } from '../identity/helpers.js'
import { HOUR, getMessage, metaText, movableClock, outboundTo, patchAccount, sentTo, waitAll } from './window-helpers.js'

/**
 * The `stash` policy (DESIGN §8) end to end through the API, the sandbox route and the Meta
 * simulator enforcing the 24-hour window: messages to a contact whose window is closed are held
 * behind ONE interaction request; the contact's reply sends them in order, a decline fails them,
 * the TTL expires them. Time is the gateway's clock, moved by the test.
 */
const META = 'sandbox-meta'

describe('closed window, policy stash', () => {
  let t: TestGateway
  const clock = movableClock()

  beforeAll(async () => {
    t = await startTestGateway({ clock, sandboxes: (timings) => [metaSandbox(timings, { enforceWindow: true })] })
    await patchAccount(t, META, { window_policy: 'stash', interaction_template: { name: 'interaction_request', language: 'en_US' }, stash_ttl_minutes: 90 })
  })
  afterAll(async () => t.close())

  const sendThree = async (to: string, tag: string) => {
    const ids: string[] = []
    for (const n of [1, 2, 3]) {
      const r = await t.api('POST', '/v1/messages', { account: META, to, type: 'text', text: `${tag} ${n}` })
      expect(r.status, r.text).toBe(202)
      expect(r.json.status).toBe('stashed')
      ids.push(r.json.id)
    }
    return ids
  }

  /** The stash's single interaction request, once the simulator has it. */
  const interactionRequests = async (to: string) => {
    const contact = await contactByUrn(t, `tel:${to}`)
    return (await outboundTo(t, META, contact.id)).filter((m) => m.metadata?.interaction_request === true)
  }

  it('the account refuses stash without an interaction template, and shows the settings', async () => {
    const bad = await t.api('POST', '/v1/accounts', { name: 'no-template', provider: 'meta', phone_number: '+14155559999', config: { phone_number_id: '999', access_token: 'x', app_secret: 'y' }, window_policy: 'stash' })
    expect(bad.status).toBe(400)
    expect(bad.json.code).toBe('invalid_request')
    const account = await t.api('GET', `/v1/accounts/${META}`)
    expect(account.json).toMatchObject({ window_policy: 'stash', stash_ttl_minutes: 90, interaction_template: { name: 'interaction_request', language: 'en_US', accept_payloads: ['accept', 'yes'], decline_payloads: ['decline', 'no'] } })
  })

  it('three messages → one interaction request and three stashed; the reply sends all three in order and they reach read', async () => {
    const to = '+14155550101'
    // The contact wrote once, 25 hours ago (gateway time): the window has closed since.
    expect((await t.api('POST', `/sandbox/${META}/inbound`, { from: to, text: 'hello there' })).status).toBe(202)
    const wrote = await t.waitFor(async () => (await contactByUrn(t, `tel:${to}`))?.accounts?.[0], 10_000, 'the first inbound')
    clock.offset += 25 * HOUR
    const before = await contactByUrn(t, `tel:${to}`)
    expect(before.accounts[0]).toMatchObject({ account: META, window_open: false, window_expires_at: new Date(Date.parse(wrote.last_inbound_at) + 24 * HOUR).toISOString() })

    const ids = await sendThree(to, 'stashed')
    for (const id of ids) {
      const m = await getMessage(t, id)
      expect(m).toMatchObject({ status: 'stashed', window_expires_at: before.accounts[0].window_expires_at })
      expect(m.history.map((h: { status: string }) => h.status)).toEqual(['accepted', 'stashed'])
    }
    const requests = await interactionRequests(to)
    expect(requests).toHaveLength(1)
    expect(requests[0]).toMatchObject({ type: 'template', template: { name: 'interaction_request', language: 'en_US' } })
    await t.waitFor(async () => sentTo(t, META, to).some((r) => r.type === 'template'), 10_000, 'the interaction request at the provider')
    const stashedEvents = (await eventsOf(t, 'message.status', META)).filter((e) => e.topic === `message.${META}.stashed` && ids.includes(e.data.message.id))
    expect(stashedEvents.map((e) => e.data.message.id).sort()).toEqual([...ids].sort())
    const during = await contactByUrn(t, `tel:${to}`)
    expect(during.accounts[0]).toMatchObject({ stashed: 3 })
    // Nothing free-form reached the provider while the window was closed.
    expect(sentTo(t, META, to).filter((r) => r.type === 'text')).toHaveLength(0)

    expect((await t.api('POST', `/sandbox/${META}/inbound`, { from: to, text: 'sure, go ahead' })).status).toBe(202)
    const done = await waitAll(t, ids, ['read', 'failed'])
    expect(done.map((m) => m.status)).toEqual(['read', 'read', 'read'])
    for (const m of done) {
      expect(m.history.map((h: { status: string }) => h.status)).toEqual(expect.arrayContaining(['accepted', 'stashed', 'queued', 'sending', 'read']))
      expect(m.history.find((h: { status: string }) => h.status === 'queued').provider_status).toBe('released: contact replied')
      expect(Date.parse(m.window_expires_at)).toBeGreaterThan(clock.now() + 23 * HOUR)
    }
    expect(sentTo(t, META, to).filter((r) => r.type === 'text').map((r) => metaText(r.body))).toEqual(['stashed 1', 'stashed 2', 'stashed 3'])
    expect(await interactionRequests(to)).toHaveLength(1)
    const after = await contactByUrn(t, `tel:${to}`)
    expect(after.accounts[0]).toMatchObject({ window_open: true, stashed: 0 })

    // With the window open again, the next message goes straight out.
    const next = await t.api('POST', '/v1/messages', { account: META, to, type: 'text', text: 'and one more' })
    expect(next.json.status).toBe('queued')
  })

  it('a decline (button payload) fails every stashed message with recipient_declined', async () => {
    const to = '+14155550102'
    const ids = await sendThree(to, 'declined')
    const [request] = await interactionRequests(to)
    expect(request).toBeDefined()
    await t.waitFor(async () => (await getMessage(t, request.id)).status === 'read', 10_000, 'the interaction request read')

    const r = await t.api('POST', `/sandbox/${META}/inbound`, { from: to, button: { text: 'No', payload: 'No' }, reply_to: request.id })
    expect(r.status).toBe(202)
    const done = await waitAll(t, ids, ['failed', 'read'])
    for (const m of done) {
      expect(m.status).toBe('failed')
      expect(m.error).toMatchObject({ code: 'recipient_declined', retryable: false })
      expect(m.history.map((h: { status: string }) => h.status)).toEqual(['accepted', 'stashed', 'failed'])
    }
    const failedEvents = (await eventsOf(t, 'message.status', META)).filter((e) => e.topic === `message.${META}.failed` && ids.includes(e.data.message.id))
    expect(failedEvents).toHaveLength(3)
    expect(sentTo(t, META, to).filter((x) => x.type === 'text')).toHaveLength(0)
    expect(await interactionRequests(to)).toHaveLength(1)
  })

  it('past the stash TTL the messages fail with stash_expired', async () => {
    const to = '+14155550103'
    const ids = await sendThree(to, 'expiring')
    expect(await interactionRequests(to)).toHaveLength(1)
    // A contact that never wrote: no window, but the account lists what it holds for it.
    expect((await contactByUrn(t, `tel:${to}`)).accounts).toEqual([expect.objectContaining({ account: META, window_open: false, window_expires_at: null, last_inbound_at: null, stashed: 3 })])
    clock.offset += 60 * 60_000
    // Not yet: the TTL is 90 minutes.
    await new Promise((r) => setTimeout(r, 1_500))
    expect((await getMessage(t, ids[0] as string)).status).toBe('stashed')
    clock.offset += 31 * 60_000
    const done = await waitAll(t, ids, ['failed', 'read'])
    for (const m of done) {
      expect(m.status).toBe('failed')
      expect(m.error).toMatchObject({ code: 'stash_expired', retryable: false })
    }
    expect(sentTo(t, META, to).filter((x) => x.type === 'text')).toHaveLength(0)
    expect((await contactByUrn(t, `tel:${to}`)).accounts).toEqual([])

    // The episode is over: the next message opens a new one with a new interaction request.
    await sendThree(to, 'again')
    expect(await interactionRequests(to)).toHaveLength(2)
  })

  it('a template is never stashed', async () => {
    const to = '+14155550104'
    const r = await t.api('POST', '/v1/messages', { account: META, to, type: 'template', template: { name: 'hello_world', language: 'en_US' } })
    expect(r.status).toBe(202)
    expect(r.json.status).toBe('queued')
    expect((await waitAll(t, [r.json.id], ['read', 'failed']))[0].status).toBe('read')
    expect(simulatorOf(t, META).stats().faulted).toBe(0)
  })
})

describe('a restart loses no stashed message', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wagate-stash-'))
  const env = { WAGATE_DATA_DIR: dir, WAGATE_SECRET_KEY: randomBytes(32).toString('hex') }
  let t: TestGateway | undefined
  afterAll(async () => {
    await t?.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('messages stashed before a restart are released by a reply after it, in order', async () => {
    const to = '+14155550111'
    const first = await startTestGateway({ env, sandboxes: (timings) => [metaSandbox(timings, { enforceWindow: true })] })
    t = first
    await patchAccount(first, META, { window_policy: 'stash', interaction_template: { name: 'interaction_request', language: 'en_US' } })
    const ids: string[] = []
    for (const n of [1, 2]) ids.push((await first.api('POST', '/v1/messages', { account: META, to, type: 'text', text: `kept ${n}` })).json.id)
    await waitAll(first, ids, ['stashed'])
    await first.close()
    t = undefined

    const second = await startTestGateway({ env, sandboxes: (timings) => [metaSandbox(timings, { enforceWindow: true })] })
    t = second
    expect((await waitAll(second, ids, ['stashed', 'queued', 'read', 'failed'])).map((m) => m.status)).toEqual(['stashed', 'stashed'])
    expect((await second.api('POST', `/sandbox/${META}/inbound`, { from: to, button: { text: 'Yes', payload: 'Yes' } })).status).toBe(202)
    const done = await waitAll(second, ids, ['read', 'failed'])
    expect(done.map((m) => m.status)).toEqual(['read', 'read'])
    expect(done[0].history.find((h: { status: string }) => h.status === 'queued').provider_status).toBe('released: accepted')
    expect(sentTo(second, META, to).filter((r) => r.type === 'text').map((r) => metaText(r.body))).toEqual(['kept 1', 'kept 2'])
  })
})
