import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { OutboundContent } from './content.js'
import {
  evaluate,
  fallbackRequest,
  formatCondition,
  isRuleEvent,
  MAX_FALLBACK_DEPTH,
  normalizeUrn,
  parseCondition,
  pickTelUrn,
  planRun,
  renderTemplate,
  ruleMatches,
  smsTextOf,
  valueAt,
  type Condition,
  type EventEnvelope,
  type RuleSpec,
  type Scalar,
  type Step,
} from './rules.js'

const failed = (extra: Record<string, unknown> = {}): EventEnvelope => ({
  id: 'evt_1',
  type: 'message.status',
  topic: 'message.sandbox-meta.failed',
  account: 'sandbox-meta',
  data: {
    message: {
      id: 'msg_1',
      account: 'sandbox-meta',
      direction: 'out',
      type: 'text',
      to: 'tel:+14155550000',
      contact_id: 'ct_1',
      status: 'failed',
      metadata: null,
      error: { code: 'recipient_not_on_whatsapp', retryable: false, provider_code: '131026' },
      ...extra,
    },
  },
})

const notOnWhatsApp: Condition = { path: 'data.message.error.code', op: 'eq', value: 'recipient_not_on_whatsapp' }
const rule = (over: Partial<RuleSpec> = {}): RuleSpec => ({ id: 'rule_a', name: 'sms-fallback', topics: ['message.*.failed'], conditions: [notOnWhatsApp], actions: [{ type: 'fallback_send', account: 'sms' }], ...over })

const scalar: fc.Arbitrary<Scalar> = fc.oneof(fc.string({ maxLength: 12 }), fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }).map((x) => (Object.is(x, -0) ? 0 : x)), fc.boolean(), fc.constant(null))
const key = fc.stringMatching(/^[A-Za-z0-9_-]{1,8}$/)
const path = fc.array(key, { minLength: 1, maxLength: 5 }).map((ks) => ks.join('.'))
const condition: fc.Arbitrary<Condition> = fc.oneof(
  fc.record({ path, op: fc.constantFrom('eq' as const, 'ne' as const), value: scalar }),
  fc.record({ path, op: fc.constantFrom('in' as const, 'not_in' as const), value: fc.array(scalar, { minLength: 1, maxLength: 4 }) }),
  fc.record({ path, op: fc.constant('exists' as const) }),
  fc.record({ path, op: fc.constant('exists' as const), value: fc.boolean() }),
)

/** Puts `value` at `path` in a fresh object. */
const nest = (p: string, value: unknown): Record<string, unknown> => p.split('.').reduceRight<unknown>((inner, k) => ({ [k]: inner }), value) as Record<string, unknown>

describe('conditions', () => {
  it('read values by path, array items by index, own keys only', () => {
    const root = { data: { list: ['a', { b: 1 }], o: { 'x-y': null } } }
    expect(valueAt(root, 'data.list.1.b')).toBe(1)
    expect(valueAt(root, 'data.list.x')).toBeUndefined()
    expect(valueAt(root, 'data.o.x-y')).toBeNull()
    expect(valueAt(root, 'data.o.toString')).toBeUndefined()
    expect(valueAt(root, 'data.__proto__')).toBeUndefined()
  })

  it('evaluate eq / ne / in / not_in / exists on the issue example', () => {
    const e = failed()
    expect(evaluate(notOnWhatsApp, e)).toBe(true)
    expect(evaluate({ ...notOnWhatsApp, op: 'ne' }, e)).toBe(false)
    expect(evaluate({ path: 'data.message.error.code', op: 'in', value: ['recipient_opted_out', 'recipient_not_on_whatsapp'] }, e)).toBe(true)
    expect(evaluate({ path: 'data.message.error.code', op: 'not_in', value: ['recipient_opted_out'] }, e)).toBe(true)
    expect(evaluate({ path: 'data.message.error.provider_code', op: 'eq', value: 131026 }, e)).toBe(false)
    expect(evaluate({ path: 'data.message.error', op: 'exists' }, e)).toBe(true)
    expect(evaluate({ path: 'data.message.metadata', op: 'exists' }, e)).toBe(false)
    expect(evaluate({ path: 'data.message.nope', op: 'exists', value: false }, e)).toBe(true)
  })

  it('ne is the negation of eq, not_in of in, and in [v] is eq v (property)', () => {
    fc.assert(
      fc.property(path, scalar, scalar, fc.boolean(), (p, v, other, present) => {
        const root = present ? nest(p, other) : {}
        const eq = evaluate({ path: p, op: 'eq', value: v }, root)
        expect(evaluate({ path: p, op: 'ne', value: v }, root)).toBe(!eq)
        expect(evaluate({ path: p, op: 'in', value: [v] }, root)).toBe(eq)
        expect(evaluate({ path: p, op: 'not_in', value: [v] }, root)).toBe(!eq)
        expect(evaluate({ path: p, op: 'eq', value: v }, nest(p, v))).toBe(true)
        expect(evaluate({ path: p, op: 'exists' }, root)).toBe(present && other !== null)
      }),
      { numRuns: 500 },
    )
  })

  it('parse the string form, and read back any condition it formats (property)', () => {
    expect(parseCondition('data.message.error.code == "recipient_not_on_whatsapp"')).toEqual({ ok: true, condition: notOnWhatsApp })
    expect(parseCondition('data.message.type not in ["text", "image"]')).toEqual({ ok: true, condition: { path: 'data.message.type', op: 'not_in', value: ['text', 'image'] } })
    expect(parseCondition('data.x!=3')).toEqual({ ok: true, condition: { path: 'data.x', op: 'ne', value: 3 } })
    expect(parseCondition('data.x not exists')).toEqual({ ok: true, condition: { path: 'data.x', op: 'exists', value: false } })
    fc.assert(
      fc.property(condition, (c) => {
        const back = parseCondition(formatCondition(c))
        expect(back).toEqual({ ok: true, condition: c.op === 'exists' && c.value !== false ? { path: c.path, op: 'exists' } : c })
      }),
      { numRuns: 500 },
    )
  })

  it('refuse a malformed string form with a reason', () => {
    for (const bad of ['data.message.error.code == recipient_not_on_whatsapp', 'data.x in "a"', 'data.x == {"a":1}', 'data..x == 1', 'data.x exists 1', 'just words', '']) {
      const r = parseCondition(bad)
      expect(r.ok, bad).toBe(false)
      if (!r.ok) expect(r.reason.length).toBeGreaterThan(5)
    }
  })
})

describe('matching and loops', () => {
  it('a rule matches on topic and every condition', () => {
    expect(ruleMatches(rule(), failed())).toBe(true)
    expect(ruleMatches(rule({ topics: ['message.*.delivered'] }), failed())).toBe(false)
    expect(ruleMatches(rule(), failed({ error: { code: 'transient' } }))).toBe(false)
    expect(ruleMatches(rule({ conditions: [] }), failed({ error: { code: 'transient' } }))).toBe(true)
  })

  it('never matches a rule event, whatever its topics and conditions (property)', () => {
    fc.assert(
      fc.property(fc.constantFrom('rule.fired', 'rule.failed'), fc.array(condition, { maxLength: 2 }), key, (type, conditions, name) => {
        const e: EventEnvelope = { id: 'evt_r', type, topic: `rule.${name}.${type.slice(5)}`, account: null, data: {} }
        expect(isRuleEvent(e)).toBe(true)
        expect(ruleMatches({ id: 'rule_x', topics: ['>', 'rule.>'], conditions }, e)).toBe(false)
      }),
      { numRuns: 200 },
    )
  })

  it('does not run on the failure of a message its own fallback sent, but another rule does', () => {
    const fallbackFailed = failed({ metadata: { fallback_of: 'msg_0', fallback_rules: ['rule_a'] } })
    expect(ruleMatches(rule(), fallbackFailed)).toBe(false)
    expect(ruleMatches(rule({ id: 'rule_b' }), fallbackFailed)).toBe(true)
  })
})

describe('planRun', () => {
  it('plans a fallback for an outbound message, carrying the chain of rules', () => {
    const plan = planRun(rule(), failed())
    expect(plan).toEqual({ ok: true, steps: [{ type: 'fallback_send', index: 0, account: 'sms', messageId: 'msg_1', chain: ['rule_a'] }] })
    const second = planRun(rule({ id: 'rule_b' }), failed({ metadata: { fallback_rules: ['rule_a'] } }))
    expect(second.ok && second.steps[0]).toMatchObject({ chain: ['rule_a', 'rule_b'] })
  })

  it('stops fallback chains at the maximum depth', () => {
    const chain = Array.from({ length: MAX_FALLBACK_DEPTH - 1 }, (_, i) => `rule_${i}`)
    const plan = planRun(rule({ id: 'rule_z' }), failed({ metadata: { fallback_rules: chain } }))
    expect(plan).toMatchObject({ ok: false, error: { index: 0, type: 'fallback_send' } })
  })

  it('refuses what an event cannot give: a fallback of an inbound message, a stop without a contact', () => {
    expect(planRun(rule(), failed({ direction: 'in' }))).toMatchObject({ ok: false, error: { type: 'fallback_send', detail: /outbound/ } })
    const stop = rule({ actions: [{ type: 'webhook', url: 'https://example.com/h' }, { type: 'stop_contact' }] })
    expect(planRun(stop, failed({ contact_id: null }))).toMatchObject({ ok: false, error: { index: 1, type: 'stop_contact' } })
  })

  it('plans every action type, rendering templates from the event', () => {
    const all = rule({
      actions: [
        { type: 'stop_contact' },
        { type: 'mark_urn_unreachable' },
        { type: 'add_urn', urn: 'tel:{{data.message.metadata.phone}}' },
        { type: 'webhook', url: 'https://example.com/h', timeout_ms: 900 },
        { type: 'fallback_send', account: 'sms', text: 'Code {{data.message.error.provider_code}}' },
      ],
    })
    const plan = planRun(all, failed({ metadata: { phone: '+1 415 555 2671' } }))
    expect(plan.ok).toBe(true)
    if (!plan.ok) return
    expect(plan.steps).toEqual([
      { type: 'stop_contact', index: 0, account: 'sandbox-meta', contactId: 'ct_1', reason: 'rule sms-fallback' },
      { type: 'mark_urn_unreachable', index: 1, messageId: 'msg_1' },
      { type: 'add_urn', index: 2, contactId: 'ct_1', urn: 'tel:+14155552671' },
      { type: 'webhook', index: 3, url: 'https://example.com/h', timeoutMs: 900 },
      { type: 'fallback_send', index: 4, account: 'sms', messageId: 'msg_1', text: 'Code 131026', chain: ['rule_a'] },
    ])
    expect(planRun(all, failed())).toMatchObject({ ok: false, error: { index: 2, type: 'add_urn', detail: /metadata\.phone/ } })
  })

  it('renders templates and normalizes URNs', () => {
    expect(renderTemplate('{{ a.b }}-{{a.c}}', { a: { b: 'x', c: 2 } })).toEqual({ ok: true, text: 'x-2' })
    expect(renderTemplate('{{a}}', { a: { b: 1 } })).toMatchObject({ ok: false })
    expect(normalizeUrn('tel:+1 (415) 555-2671')).toEqual({ ok: true, urn: 'tel:+14155552671' })
    expect(normalizeUrn('whatsapp:+14155552671')).toEqual({ ok: true, urn: 'whatsapp:14155552671' })
    expect(normalizeUrn('wauser:US.1234')).toEqual({ ok: true, urn: 'wauser:US.1234' })
    expect(normalizeUrn('mailto:a@b')).toMatchObject({ ok: false })
    expect(normalizeUrn('tel:12')).toMatchObject({ ok: false })
  })
})

describe('SMS fallback content', () => {
  const image: OutboundContent = { type: 'image', media: { url: 'https://cdn.example/p.jpg', caption: 'Your receipt' } }

  it('turns text, media, locations and interactive messages into text; media become links', () => {
    expect(smsTextOf({ type: 'text', text: 'hi' })).toEqual({ ok: true, text: 'hi' })
    expect(smsTextOf(image)).toEqual({ ok: true, text: 'Your receipt\nhttps://cdn.example/p.jpg' })
    expect(smsTextOf({ type: 'document', media: { url: 'https://cdn.example/a.pdf', filename: 'invoice.pdf' } })).toEqual({ ok: true, text: 'invoice.pdf\nhttps://cdn.example/a.pdf' })
    expect(smsTextOf({ type: 'location', location: { latitude: 52.37, longitude: 4.89, name: 'Shop' } })).toEqual({ ok: true, text: 'Shop\nhttps://maps.google.com/?q=52.37,4.89' })
    const buttons = smsTextOf({ type: 'interactive', interactive: { type: 'button', body: 'Confirm?', buttons: [{ id: 'y', title: 'Yes' }, { id: 'n', title: 'No' }] } })
    expect(buttons).toEqual({ ok: true, text: 'Confirm?\n- Yes\n- No' })
  })

  it('refuses templates, reactions and media known only by provider id', () => {
    expect(smsTextOf({ type: 'template', template: { name: 'x', language: 'en' } })).toMatchObject({ ok: false, reason: /text/ })
    expect(smsTextOf({ type: 'reaction', reaction: { message_id: 'msg_1', emoji: '👍' } })).toMatchObject({ ok: false })
    expect(smsTextOf({ type: 'video', media: { id: '12345' } })).toMatchObject({ ok: false, reason: /media id/ })
  })

  it('keeps every media link in the text (property)', () => {
    const media = fc.record({
      type: fc.constantFrom('image' as const, 'audio' as const, 'video' as const, 'document' as const, 'sticker' as const),
      url: fc.webUrl(),
      caption: fc.option(fc.string({ maxLength: 30 }), { nil: undefined }),
    })
    fc.assert(
      fc.property(media, ({ type, url, caption }) => {
        const out = smsTextOf({ type, media: { url, ...(caption !== undefined ? { caption } : {}) } })
        expect(out.ok).toBe(true)
        if (out.ok) expect(out.text.endsWith(url)).toBe(true)
      }),
      { numRuns: 100 },
    )
  })

  const step: Extract<Step, { type: 'fallback_send' }> = { type: 'fallback_send', index: 0, account: 'sms', messageId: 'msg_1', chain: ['rule_a'] }
  const original = (over: Partial<Parameters<typeof fallbackRequest>[0]> = {}) => ({ id: 'msg_1', direction: 'out', urn: 'tel:+14155550000', content: image, metadata: { order: 7, part: 1, parts: ['msg_1', 'msg_2'] }, reply_ref: 'r-1', ...over })

  it('builds the send request: SMS text to the number, metadata naming the original and the rules', () => {
    expect(fallbackRequest(original(), { name: 'sms', channel: 'sms' }, [], step)).toEqual({
      ok: true,
      request: { account: 'sms', to: '+14155550000', type: 'text', text: 'Your receipt\nhttps://cdn.example/p.jpg', reply_ref: 'r-1', metadata: { order: 7, fallback_of: 'msg_1', fallback_rules: ['rule_a'] } },
    })
    // Through another WhatsApp account the content stays what it was.
    expect(fallbackRequest(original(), { name: 'wa2', channel: 'whatsapp' }, [], step)).toMatchObject({ ok: true, request: { account: 'wa2', to: '+14155550000', type: 'image', media: image.type === 'image' ? image.media : {} } })
    expect(fallbackRequest(original({ urn: 'whatsapp:14155550000' }), { name: 'sms', channel: 'sms' }, ['whatsapp:14155550000'], step)).toMatchObject({ ok: false, reason: /tel:/ })
    expect(fallbackRequest(original(), { name: 'sms', channel: 'sms' }, [], { ...step, text: 'Call us' })).toMatchObject({ ok: true, request: { text: 'Call us' } })
  })

  it('picks the number a wa_id stands for, else the first number', () => {
    expect(pickTelUrn('tel:+14155550000', [])).toBe('tel:+14155550000')
    expect(pickTelUrn('whatsapp:553587654321', ['tel:+14155552671', 'tel:+5535987654321'])).toBe('tel:+5535987654321')
    expect(pickTelUrn('wauser:US.1', ['whatsapp:1', 'tel:+14155552671'])).toBe('tel:+14155552671')
    expect(pickTelUrn('wauser:US.1', ['whatsapp:1'])).toBeUndefined()
  })
})
