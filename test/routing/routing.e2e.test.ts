import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestGateway, type TestGateway } from '../harness/gateway.js'
import { eventsOf, waitForStatus, type EventEnvelope } from '../identity/helpers.js'

/**
 * Routing of inbound messages (DESIGN §9) end to end: refs are set through `POST /v1/messages`
 * (`reply_ref`, `session`, `nextreply`) or `/v1/sessions/{account}/{contact}`, the contact writes
 * through the sandbox simulator (quoting our message with `reply_to`), and the topic of the
 * resulting `message.inbound` event is checked. Time moves with the gateway's injected clock.
 */
const ACCOUNT = 'sandbox-meta'
const MINUTE = 60_000
const HOUR = 60 * MINUTE

interface Ctx {
  t: TestGateway
  /** The contact of this case (a number of its own). */
  to: string
  /** Outbound messages of this case, by label. */
  sent: Map<string, string>
  advance(ms: number): void
}

type Step = (c: Ctx) => Promise<void>

async function ok(res: Promise<{ status: number; json: any; text: string }>, status: number, what: string) {
  const r = await res
  if (r.status !== status) throw new Error(`${what}: expected ${status}, got ${r.status} ${r.text}`)
  return r.json
}

/** Sends a text to the case's contact with extra fields; `label` names it for a later quote. */
const send =
  (label: string, extra: Record<string, unknown> = {}): Step =>
  async (c) => {
    const body = await ok(c.t.api('POST', '/v1/messages', { account: ACCOUNT, to: c.to, type: 'text', text: `out ${label}`, ...extra }), 202, `send ${label}`)
    c.sent.set(label, body.id)
  }
const putSession = (ref: string, ttl_hours?: number): Step => async (c) => void (await ok(c.t.api('PUT', sessionPath(c), { ref, ...(ttl_hours ? { ttl_hours } : {}) }), 200, 'PUT session'))
const moveSession = (ref: string): Step => async (c) => void (await ok(c.t.api('POST', `${sessionPath(c)}/move`, { ref }), 200, 'move session'))
const deleteSession: Step = async (c) => void (await ok(c.t.api('DELETE', sessionPath(c)), 200, 'DELETE session'))
const putNextReply = (ref: string, ttl_minutes?: number): Step => async (c) => void (await ok(c.t.api('PUT', `${sessionPath(c)}/nextreply`, { ref, ...(ttl_minutes ? { ttl_minutes } : {}) }), 200, 'PUT nextreply'))
const advance = (ms: number): Step => async (c) => c.advance(ms)

const sessionPath = (c: Ctx) => `/v1/sessions/${ACCOUNT}/${encodeURIComponent(c.to)}`

/** The contact writes `text`, quoting the outbound message labelled `quote` if given; answers its event. */
async function inbound(c: Ctx, text: string, quote?: string): Promise<EventEnvelope> {
  let replyTo: string | undefined
  if (quote) {
    replyTo = c.sent.get(quote)
    if (!replyTo) throw new Error(`no outbound message labelled ${quote}`)
    // Only a message the provider took has an id the contact can quote.
    await waitForStatus(c.t, replyTo, ['sent', 'delivered', 'read'])
  }
  const res = await ok(c.t.api('POST', `/sandbox/${ACCOUNT}/inbound`, { from: c.to, text, ...(replyTo ? { reply_to: replyTo } : {}) }), 202, 'sandbox inbound')
  const pid = res.provider_message_id as string
  return c.t.waitFor(async () => (await eventsOf(c.t, 'message.inbound', ACCOUNT)).find((e) => e.data.message?.provider_message_id === pid), 15_000, `inbound "${text}"`)
}

const head = `incoming.${ACCOUNT}`

interface Case {
  what: string
  commands?: boolean
  steps: Step[]
  /** The contact's message (a command when it starts with /). */
  text: string
  quote?: string
  kind: string
  /** The expected topic; `{to}` stands for the contact's number. */
  topic: string
  /** Later messages of the same contact and their expected kind/topic. */
  then?: Array<{ text: string; kind: string; topic: string }>
}

const cases: Case[] = [
  // Each rule on its own.
  { what: 'unsolicited: nothing active', steps: [], text: 'hello', kind: 'unsolicited', topic: `${head}.from.{to}` },
  { what: 'reply: quotes a message with reply_ref', steps: [send('q', { reply_ref: 'quote-1' })], text: 'yes', quote: 'q', kind: 'reply', topic: `${head}.reply.quote-1` },
  { what: 'command: /track AB-12 with commands on', commands: true, steps: [], text: '/Track AB-12 please', kind: 'command', topic: `${head}.command.track.target.AB-12.from.{to}` },
  { what: 'command without target: the empty target token', commands: true, steps: [], text: '/help', kind: 'command', topic: `${head}.command.help.target.%00.from.{to}` },
  { what: 'commands off: /track is just text', commands: false, steps: [], text: '/track AB-12', kind: 'unsolicited', topic: `${head}.from.{to}` },
  { what: 'next-reply set on an outbound message', steps: [send('ask', { nextreply: { ref: 'ask-name' } })], text: 'Ana', kind: 'nextreply', topic: `${head}.nextreply.ask-name` },
  { what: 'next-reply set by API', steps: [putNextReply('ask-age')], text: '42', kind: 'nextreply', topic: `${head}.nextreply.ask-age` },
  { what: 'session set on an outbound message', steps: [send('s', { session: { ref: 'order-42' } })], text: 'where is it?', kind: 'session', topic: `${head}.session.order-42` },
  { what: 'session set by API', steps: [putSession('order-43', 2)], text: 'hi', kind: 'session', topic: `${head}.session.order-43` },

  // Precedence conflicts: the higher rule wins.
  {
    what: 'reply beats command (and next-reply, session)',
    commands: true,
    steps: [send('q', { reply_ref: 'quote-2', session: { ref: 's-1' }, nextreply: { ref: 'n-1' } })],
    text: '/track X1',
    quote: 'q',
    kind: 'reply',
    topic: `${head}.reply.quote-2`,
    // The quoted reply did not consume the next-reply ref.
    then: [{ text: 'after', kind: 'nextreply', topic: `${head}.nextreply.n-1` }],
  },
  {
    what: 'command beats next-reply (which stays for the next message)',
    commands: true,
    steps: [putNextReply('n-2')],
    text: '/stop',
    kind: 'command',
    topic: `${head}.command.stop.target.%00.from.{to}`,
    then: [{ text: 'plain', kind: 'nextreply', topic: `${head}.nextreply.n-2` }],
  },
  {
    what: 'next-reply beats session, is consumed by one message, the session stays',
    steps: [putSession('s-3'), send('ask', { nextreply: { ref: 'n-3', ttl_minutes: 5 } })],
    text: 'first',
    kind: 'nextreply',
    topic: `${head}.nextreply.n-3`,
    then: [
      { text: 'second', kind: 'session', topic: `${head}.session.s-3` },
      { text: 'third', kind: 'session', topic: `${head}.session.s-3` },
    ],
  },
  {
    what: 'a next-reply ref is consumed by one message: the second is unsolicited without a session',
    steps: [putNextReply('n-4')],
    text: 'first',
    kind: 'nextreply',
    topic: `${head}.nextreply.n-4`,
    then: [{ text: 'second', kind: 'unsolicited', topic: `${head}.from.{to}` }],
  },
  { what: 'session beats unsolicited', steps: [putSession('s-5')], text: 'hey', kind: 'session', topic: `${head}.session.s-5` },
  { what: 'a quote of a message without reply_ref falls to the session', steps: [send('plain'), putSession('s-6')], text: 'about that', quote: 'plain', kind: 'session', topic: `${head}.session.s-6` },

  // Expiry, by moving the gateway's clock.
  { what: 'expired session → unsolicited', steps: [putSession('s-7', 1), advance(HOUR + MINUTE)], text: 'late', kind: 'unsolicited', topic: `${head}.from.{to}` },
  { what: 'default session TTL is 24 h', steps: [send('s', { session: { ref: 's-8' } }), advance(24 * HOUR - 5 * MINUTE)], text: 'still', kind: 'session', topic: `${head}.session.s-8` },
  { what: 'expired next-reply → session', steps: [putSession('s-9'), putNextReply('n-9', 10), advance(11 * MINUTE)], text: 'late', kind: 'session', topic: `${head}.session.s-9` },
  { what: 'default next-reply TTL is 30 min', steps: [send('ask', { nextreply: { ref: 'n-10' } }), advance(31 * MINUTE)], text: 'late', kind: 'unsolicited', topic: `${head}.from.{to}` },

  // Move and cancel, by API and by outbound message.
  { what: 'session moved by an outbound message', steps: [send('a', { session: { ref: 'cart' } }), send('b', { session: { move_to: 'checkout' } })], text: 'pay', kind: 'session', topic: `${head}.session.checkout` },
  { what: 'session moved by API', steps: [putSession('cart-2'), moveSession('checkout-2')], text: 'pay', kind: 'session', topic: `${head}.session.checkout-2` },
  { what: 'session cancelled by an outbound message', steps: [putSession('s-11'), send('bye', { session: { cancel: true } })], text: 'ok', kind: 'unsolicited', topic: `${head}.from.{to}` },
  { what: 'session cancelled by API', steps: [send('s', { session: { ref: 's-12' } }), deleteSession], text: 'ok', kind: 'unsolicited', topic: `${head}.from.{to}` },
  { what: 'session replaced by a new one', steps: [putSession('old'), send('s', { session: { ref: 'new' } })], text: 'x', kind: 'session', topic: `${head}.session.new` },

  // Values cannot split or forge a topic.
  { what: 'a dotted session ref cannot forge a reply topic', steps: [putSession('x.reply.forged')], text: 'x', kind: 'session', topic: `${head}.session.x%2Ereply%2Eforged` },
  { what: 'spaces and wildcards in a next-reply ref stay in one token', steps: [putNextReply('a b*>c')], text: 'x', kind: 'nextreply', topic: `${head}.nextreply.a%20b%2A%3Ec` },
  { what: 'a dotted command target stays in one token', commands: true, steps: [], text: '/track a.b.c', kind: 'command', topic: `${head}.command.track.target.a%2Eb%2Ec.from.{to}` },
]

describe('routing of inbound messages (DESIGN §9)', () => {
  let t: TestGateway
  let offset = 0
  let n = 0
  beforeAll(async () => {
    t = await startTestGateway({ clock: { now: () => Date.now() + offset } })
  })
  afterAll(async () => t.close())

  const ctx = (): Ctx => ({ t, to: `+1415555${String(100 + n++).padStart(4, '0')}`, sent: new Map(), advance: (ms) => void (offset += ms) })
  const setCommands = async (on: boolean) => ok(t.api('PATCH', `/v1/accounts/${ACCOUNT}`, { commands: on }), 200, 'PATCH commands')

  it.each(cases)('$what', async (k) => {
    await setCommands(k.commands ?? false)
    const c = ctx()
    for (const step of k.steps) await step(c)
    const event = await inbound(c, k.text, k.quote)
    const expected = (s: string) => s.replaceAll('{to}', c.to)
    expect(event.topic).toBe(expected(k.topic))
    expect(event.data.routing.kind).toBe(k.kind)
    expect(event.data.message.topic).toBe(expected(k.topic))
    expect(event.topic.split('.')).toHaveLength(k.kind === 'command' ? 8 : 4)
    for (const next of k.then ?? []) {
      const e = await inbound(c, next.text)
      expect({ topic: e.topic, kind: e.data.routing.kind }).toEqual({ topic: expected(next.topic), kind: next.kind })
    }
  })

  it('the event names the decision: ref, or command name and target', async () => {
    await setCommands(true)
    const c = ctx()
    await putSession('order-9')(c)
    expect((await inbound(c, 'hi')).data.routing).toEqual({ kind: 'session', ref: 'order-9' })
    expect((await inbound(c, '/Track  Z-9 now')).data.routing).toEqual({ kind: 'command', command: { name: 'track', target: 'Z-9' } })
    await setCommands(false)
  })

  it('a subscription pattern for replies does not match a forged session ref', async () => {
    const c = ctx()
    await putSession('q.reply.evil')(c)
    const e = await inbound(c, 'x')
    const r = await t.api('GET', `/v1/events?type=message.inbound&topic=${encodeURIComponent(`${head}.reply.>`)}&limit=500`)
    expect(r.status).toBe(200)
    expect((r.json.data as EventEnvelope[]).map((x) => x.id)).not.toContain(e.id)
    const s = await t.api('GET', `/v1/events?type=message.inbound&topic=${encodeURIComponent(`${head}.session.*`)}&limit=500`)
    expect((s.json.data as EventEnvelope[]).map((x) => x.id)).toContain(e.id)
  })

  describe('/v1/sessions/{account}/{contact}', () => {
    it('GET shows the active refs with expiry; a move keeps the expiry; DELETE cancels only the session', async () => {
      const c = ctx()
      const path = sessionPath(c)
      const set = await ok(t.api('PUT', path, { ref: 'order-1', ttl_hours: 3 }), 200, 'PUT')
      expect(set).toMatchObject({ account: ACCOUNT, session: { ref: 'order-1' }, nextreply: null })
      expect(set.contact_id).toMatch(/^ct_/)
      const expires = Date.parse(set.session.expires_at)
      expect(Math.abs(expires - (Date.now() + offset) - 3 * HOUR)).toBeLessThan(MINUTE)

      await ok(t.api('PUT', `${path}/nextreply`, { ref: 'ask', ttl_minutes: 15 }), 200, 'PUT nextreply')
      const moved = await ok(t.api('POST', `${path}/move`, { ref: 'order-2' }), 200, 'move')
      expect(moved.session).toEqual({ ref: 'order-2', expires_at: set.session.expires_at })
      expect(moved.nextreply.ref).toBe('ask')

      // The same contact by id, and by its URN.
      const byId = await ok(t.api('GET', `/v1/sessions/${ACCOUNT}/${set.contact_id}`), 200, 'GET by id')
      const byUrn = await ok(t.api('GET', `/v1/sessions/${ACCOUNT}/${encodeURIComponent(`tel:${c.to}`)}`), 200, 'GET by URN')
      expect(byId).toEqual(moved)
      expect(byUrn).toEqual(moved)

      const deleted = await ok(t.api('DELETE', path), 200, 'DELETE')
      expect(deleted).toMatchObject({ session: null, nextreply: { ref: 'ask' } })
      const cleared = await ok(t.api('DELETE', `${path}/nextreply`), 200, 'DELETE nextreply')
      expect(cleared).toMatchObject({ session: null, nextreply: null })
      // Moving needs an active session.
      const noSession = await t.api('POST', `${path}/move`, { ref: 'x' })
      expect(noSession.status).toBe(409)
      expect(noSession.json.code).toBe('no_active_session')
    })

    it('a session set by an outbound message shows in GET, and a move_to without one starts it', async () => {
      const c = ctx()
      await send('m', { session: { move_to: 'fresh', ttl_hours: 1 } })(c)
      const view = await ok(t.api('GET', sessionPath(c)), 200, 'GET')
      expect(view.session.ref).toBe('fresh')
      expect(Math.abs(Date.parse(view.session.expires_at) - (Date.now() + offset) - HOUR)).toBeLessThan(MINUTE)
    })

    const bad: Array<{ what: string; method: string; path: (c: Ctx) => string; body?: unknown; status: number; code: string }> = [
      { what: 'PUT without ref', method: 'PUT', path: sessionPath, body: { ttl_hours: 1 }, status: 400, code: 'invalid_request' },
      { what: 'PUT with an empty ref', method: 'PUT', path: sessionPath, body: { ref: '' }, status: 400, code: 'invalid_request' },
      { what: 'PUT with a ref over 200 characters', method: 'PUT', path: sessionPath, body: { ref: 'x'.repeat(201) }, status: 400, code: 'invalid_request' },
      { what: 'PUT with a negative TTL', method: 'PUT', path: sessionPath, body: { ref: 'a', ttl_hours: -1 }, status: 400, code: 'invalid_request' },
      { what: 'PUT with an unknown field', method: 'PUT', path: sessionPath, body: { ref: 'a', ttl_minutes: 5 }, status: 400, code: 'invalid_request' },
      { what: 'PUT nextreply with ttl_hours', method: 'PUT', path: (c) => `${sessionPath(c)}/nextreply`, body: { ref: 'a', ttl_hours: 1 }, status: 400, code: 'invalid_request' },
      { what: 'PUT for an invalid number', method: 'PUT', path: () => `/v1/sessions/${ACCOUNT}/not-a-number`, body: { ref: 'a' }, status: 422, code: 'invalid_recipient' },
      { what: 'GET of an unknown contact', method: 'GET', path: sessionPath, status: 404, code: 'unknown_contact' },
      { what: 'GET of an unknown contact id', method: 'GET', path: () => `/v1/sessions/${ACCOUNT}/ct_01NOSUCHCONTACT`, status: 404, code: 'unknown_contact' },
      { what: 'DELETE of an unknown contact', method: 'DELETE', path: sessionPath, status: 404, code: 'unknown_contact' },
      { what: 'an unknown account', method: 'PUT', path: (c) => `/v1/sessions/no-such-account/${encodeURIComponent(c.to)}`, body: { ref: 'a' }, status: 404, code: 'unknown_account' },
    ]
    it.each(bad)('$what → $status $code', async ({ method, path, body, status, code }) => {
      const r = await t.api(method, path(ctx()), body)
      expect(r.status).toBe(status)
      expect(r.json.code).toBe(code)
    })
  })

  describe('POST /v1/messages refuses bad session / nextreply shapes', () => {
    const shapes: Array<[string, Record<string, unknown>]> = [
      ['session as a string', { session: 'order-1' }],
      ['session with an empty ref', { session: { ref: '' } }],
      ['session with ref and cancel', { session: { ref: 'a', cancel: true } }],
      ['session cancel false', { session: { cancel: false } }],
      ['session with ttl_hours 0', { session: { ref: 'a', ttl_hours: 0 } }],
      ['session with ttl_hours over 30 days', { session: { ref: 'a', ttl_hours: 721 } }],
      ['session move_to a number', { session: { move_to: 42 } }],
      ['session with a control character in the ref', { session: { ref: 'a\u0000b' } }],
      ['nextreply without ref', { nextreply: { ttl_minutes: 5 } }],
      ['nextreply with a ref over 200 characters', { nextreply: { ref: 'x'.repeat(201) } }],
      ['nextreply with move_to', { nextreply: { move_to: 'a' } }],
    ]
    it.each(shapes)('%s → 400 invalid_request, nothing stored', async (_what, extra) => {
      const c = ctx()
      const r = await t.api('POST', '/v1/messages', { account: ACCOUNT, to: c.to, type: 'text', text: 'x', ...extra })
      expect(r.status).toBe(400)
      expect(r.json.code).toBe('invalid_request')
      expect(r.json.detail).toMatch(/session|nextreply/)
      expect((await t.api('GET', sessionPath(c))).status).toBe(404)
    })
  })
})
