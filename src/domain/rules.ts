import type { OutboundContent } from './content.js'
import { areEquivalent } from './equivalents.js'
import { digits, isUserId, parsePhone } from './phone.js'
import { matchTopic } from './topics.js'

/**
 * Rules (DESIGN §2, §13), the pure part: conditions over an event envelope, whether a rule matches
 * an event (never its own kind of event, never a message it sent itself), the plan of a run (what
 * each action will act on), and how a WhatsApp message becomes the text of an SMS fallback.
 *
 * @example
 * const cond = parseCondition('data.message.error.code == "recipient_not_on_whatsapp"')
 * ruleMatches({ id: 'rule_1', topics: ['message.*.failed'], conditions: [cond] }, envelope) // true
 * planRun(rule, envelope) // { ok: true, steps: [{ type: 'fallback_send', account: 'sms', messageId: 'msg_…', … }] }
 */

export type Scalar = string | number | boolean | null

export const CONDITION_OPS = ['eq', 'ne', 'in', 'not_in', 'exists'] as const
export type ConditionOp = (typeof CONDITION_OPS)[number]

export type Condition =
  | { path: string; op: 'eq' | 'ne'; value: Scalar }
  | { path: string; op: 'in' | 'not_in'; value: Scalar[] }
  | { path: string; op: 'exists'; value?: boolean }

/** Dot-separated keys (array items by index): `data.message.error.code`, `data.contact.urns.0`. */
export const CONDITION_PATH = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+){0,15}$/

/** The value at `path` in a JSON value; undefined when any step is missing. Own keys only. */
export function valueAt(root: unknown, path: string): unknown {
  let at: unknown = root
  for (const key of path.split('.')) {
    if (Array.isArray(at)) {
      if (!/^\d+$/.test(key)) return undefined
      at = at[Number(key)]
    } else if (typeof at === 'object' && at !== null && Object.hasOwn(at, key)) {
      at = (at as Record<string, unknown>)[key]
    } else {
      return undefined
    }
  }
  return at
}

/**
 * One condition against an envelope. `eq` is strict (the string "1" is not the number 1), `ne` is
 * its negation (so a missing value is "not equal"), `in`/`not_in` likewise with a list, `exists`
 * asks for a value other than null (`value: false` asks for its absence).
 */
export function evaluate(condition: Condition, root: unknown): boolean {
  const actual = valueAt(root, condition.path)
  switch (condition.op) {
    case 'eq':
      return actual === condition.value
    case 'ne':
      return actual !== condition.value
    case 'in':
      return condition.value.some((v) => v === actual)
    case 'not_in':
      return !condition.value.some((v) => v === actual)
    case 'exists':
      return (actual !== undefined && actual !== null) === (condition.value ?? true)
  }
}

const COMPARE_FORM = /^\s*([A-Za-z0-9_.-]+)\s*(==|!=)\s*(.*?)\s*$/
const WORD_FORM = /^\s*([A-Za-z0-9_.-]+)\s+(not\s+in|in|not\s+exists|exists)\b\s*(.*?)\s*$/

/**
 * The string form of a condition: `path == <json>`, `path != <json>`, `path in [<json>, …]`,
 * `path not in [...]`, `path exists`, `path not exists`. Values are JSON: strings are quoted.
 *
 * @example
 * parseCondition('data.message.error.code in ["recipient_not_on_whatsapp", "recipient_opted_out"]')
 * // { ok: true, condition: { path: 'data.message.error.code', op: 'in', value: [...] } }
 */
export function parseCondition(text: string): { ok: true; condition: Condition } | { ok: false; reason: string } {
  const m = COMPARE_FORM.exec(text) ?? WORD_FORM.exec(text)
  if (!m) return { ok: false, reason: 'expected "<path> == <json>", "<path> != <json>", "<path> in [<json>, …]", "<path> not in [...]", "<path> exists" or "<path> not exists"' }
  const path = m[1] ?? ''
  const word = (m[2] ?? '').replace(/\s+/g, ' ')
  const rest = m[3] ?? ''
  if (!CONDITION_PATH.test(path)) return { ok: false, reason: `"${path}" is not a path (keys separated by ".")` }
  if (word === 'exists' || word === 'not exists') {
    if (rest !== '') return { ok: false, reason: `nothing may follow "${word}"` }
    return { ok: true, condition: word === 'exists' ? { path, op: 'exists' } : { path, op: 'exists', value: false } }
  }
  let value: unknown
  try {
    value = JSON.parse(rest)
  } catch {
    return { ok: false, reason: `the value after "${word}" must be JSON (quote strings: "${rest.replace(/"/g, '').slice(0, 60)}")` }
  }
  if (word === 'in' || word === 'not in') {
    if (!Array.isArray(value) || !value.every(isScalar)) return { ok: false, reason: `"${word}" takes a JSON list of strings, numbers, booleans or null` }
    return { ok: true, condition: { path, op: word === 'in' ? 'in' : 'not_in', value } }
  }
  if (!isScalar(value)) return { ok: false, reason: `"${word}" compares with a string, number, boolean or null` }
  return { ok: true, condition: { path, op: word === '==' ? 'eq' : 'ne', value } }
}

/** The string form of a condition (parseCondition reads it back). */
export function formatCondition(c: Condition): string {
  switch (c.op) {
    case 'eq':
      return `${c.path} == ${JSON.stringify(c.value)}`
    case 'ne':
      return `${c.path} != ${JSON.stringify(c.value)}`
    case 'in':
      return `${c.path} in ${JSON.stringify(c.value)}`
    case 'not_in':
      return `${c.path} not in ${JSON.stringify(c.value)}`
    case 'exists':
      return c.value === false ? `${c.path} not exists` : `${c.path} exists`
  }
}

export function isScalar(v: unknown): v is Scalar {
  return v === null || typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v))
}

export type RuleAction =
  | { type: 'fallback_send'; account: string; text?: string }
  | { type: 'stop_contact'; reason?: string }
  | { type: 'mark_urn_unreachable' }
  | { type: 'add_urn'; urn: string }
  | { type: 'webhook'; url: string; timeout_ms?: number }

export const ACTION_TYPES = ['fallback_send', 'stop_contact', 'mark_urn_unreachable', 'add_urn', 'webhook'] as const

export interface RuleSpec {
  id: string
  name: string
  topics: string[]
  conditions: Condition[]
  actions: RuleAction[]
}

/** What an event says about its message and contact (read loosely: events differ in shape). */
export interface EventEnvelope {
  id: string
  type: string
  topic: string
  account: string | null
  data: Record<string, unknown>
}

/** Message metadata keys a fallback carries: the message it stands in for and the rules that sent it. */
export const FALLBACK_OF_KEY = 'fallback_of'
export const FALLBACK_RULES_KEY = 'fallback_rules'
/** A fallback of a fallback of a fallback is the last one: chains stop here whatever the rules say. */
export const MAX_FALLBACK_DEPTH = 3

/** Rule events (`rule.fired`, `rule.failed`) never trigger rules: a rule cannot feed on rules. */
export function isRuleEvent(e: Pick<EventEnvelope, 'type' | 'topic'>): boolean {
  return e.type.startsWith('rule.') || e.topic === 'rule' || e.topic.startsWith('rule.')
}

/** The rules whose fallbacks led to the event's message (from its metadata), oldest first. */
export function ruleChainOf(e: EventEnvelope): string[] {
  const chain = valueAt(e.data, `message.metadata.${FALLBACK_RULES_KEY}`)
  return Array.isArray(chain) ? chain.filter((x): x is string => typeof x === 'string') : []
}

/**
 * Whether a rule runs on an event: not a rule event, not about a message this rule's own
 * fallback sent (so a failing fallback cannot trigger itself again), a topic pattern matches, and
 * every condition holds.
 */
export function ruleMatches(rule: Pick<RuleSpec, 'id' | 'topics' | 'conditions'>, e: EventEnvelope): boolean {
  if (isRuleEvent(e)) return false
  if (ruleChainOf(e).includes(rule.id)) return false
  if (!rule.topics.some((p) => matchTopic(p, e.topic))) return false
  return rule.conditions.every((c) => evaluate(c, e))
}

/**
 * Replaces each `{{path}}` with the value at that path in the envelope (scalars only).
 *
 * @example
 * renderTemplate('tel:+{{data.message.from}}', envelope) // { ok: true, text: 'tel:+14155550123' }
 */
export function renderTemplate(template: string, root: unknown): { ok: true; text: string } | { ok: false; reason: string } {
  let missing: string | undefined
  const text = template.replace(/\{\{\s*([A-Za-z0-9_.-]+)\s*\}\}/g, (_, path: string) => {
    const v = valueAt(root, path)
    if (v === undefined || v === null || typeof v === 'object') {
      missing ??= path
      return ''
    }
    return String(v)
  })
  return missing === undefined ? { ok: true, text } : { ok: false, reason: `{{${missing}}} has no text value in this event` }
}

export type Step =
  | { type: 'fallback_send'; index: number; account: string; messageId: string; text?: string; chain: string[] }
  | { type: 'stop_contact'; index: number; account: string; contactId: string; reason: string }
  | { type: 'mark_urn_unreachable'; index: number; messageId: string }
  | { type: 'add_urn'; index: number; contactId: string; urn: string }
  | { type: 'webhook'; index: number; url: string; timeoutMs: number }

export interface PlanError {
  index: number
  type: string
  detail: string
}

export type Plan = { ok: true; steps: Step[] } | { ok: false; error: PlanError }

export const WEBHOOK_TIMEOUT_MS = 5_000

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined)

/** The message id, its direction, and the contact an event is about (message and contact events). */
export function factsOf(e: EventEnvelope) {
  return {
    messageId: str(valueAt(e.data, 'message.id')),
    direction: str(valueAt(e.data, 'message.direction')),
    contactId: str(valueAt(e.data, 'message.contact_id')) ?? str(valueAt(e.data, 'contact.id')) ?? str(valueAt(e.data, 'contact_id')),
  }
}

/**
 * What each action of a run will act on, read from the event; an action that cannot apply to it
 * (a stop without a contact, a fallback for an inbound message…) makes the plan fail, naming it.
 */
export function planRun(rule: RuleSpec, e: EventEnvelope): Plan {
  const facts = factsOf(e)
  const chain = ruleChainOf(e)
  const steps: Step[] = []
  for (const [index, action] of rule.actions.entries()) {
    const fail = (detail: string): Plan => ({ ok: false, error: { index, type: action.type, detail } })
    switch (action.type) {
      case 'fallback_send': {
        if (!facts.messageId || facts.direction !== 'out') return fail('the event is not about an outbound message')
        if (chain.length + 1 >= MAX_FALLBACK_DEPTH) return fail(`the message is already a fallback of a fallback (rules ${chain.join(', ')}); chains stop at ${MAX_FALLBACK_DEPTH} messages`)
        let text: string | undefined
        if (action.text !== undefined) {
          const rendered = renderTemplate(action.text, e)
          if (!rendered.ok) return fail(`text: ${rendered.reason}`)
          text = rendered.text
        }
        steps.push({ type: 'fallback_send', index, account: action.account, messageId: facts.messageId, ...(text !== undefined ? { text } : {}), chain: [...chain, rule.id] })
        break
      }
      case 'stop_contact':
        if (!e.account) return fail('the event names no account to stop the contact for')
        if (!facts.contactId) return fail('the event names no contact')
        steps.push({ type: 'stop_contact', index, account: e.account, contactId: facts.contactId, reason: action.reason ?? `rule ${rule.name}` })
        break
      case 'mark_urn_unreachable':
        if (!facts.messageId) return fail('the event is not about a message, so there is no URN to mark')
        steps.push({ type: 'mark_urn_unreachable', index, messageId: facts.messageId })
        break
      case 'add_urn': {
        if (!facts.contactId) return fail('the event names no contact')
        const rendered = renderTemplate(action.urn, e)
        if (!rendered.ok) return fail(`urn: ${rendered.reason}`)
        const urn = normalizeUrn(rendered.text)
        if (!urn.ok) return fail(`urn: ${urn.reason}`)
        steps.push({ type: 'add_urn', index, contactId: facts.contactId, urn: urn.urn })
        break
      }
      case 'webhook':
        steps.push({ type: 'webhook', index, url: action.url, timeoutMs: action.timeout_ms ?? WEBHOOK_TIMEOUT_MS })
        break
    }
  }
  return { ok: true, steps }
}

/** A URN as the contact model keeps it: `tel:` in E.164, `whatsapp:` digits, `wauser:` as given. */
export function normalizeUrn(value: string): { ok: true; urn: string } | { ok: false; reason: string } {
  const v = value.trim()
  if (v.startsWith('tel:')) {
    const phone = parsePhone(v.slice(4))
    return phone.ok ? { ok: true, urn: `tel:${phone.e164}` } : { ok: false, reason: phone.reason }
  }
  if (v.startsWith('whatsapp:')) {
    const id = v.slice('whatsapp:'.length).replace(/^\+/, '')
    return /^\d{6,20}$/.test(id) ? { ok: true, urn: `whatsapp:${id}` } : { ok: false, reason: `"${id}" is not a WhatsApp id (digits only)` }
  }
  if (v.startsWith('wauser:')) {
    const id = v.slice('wauser:'.length)
    return isUserId(id) ? { ok: true, urn: v } : { ok: false, reason: `"${id}" is not a business-scoped user id` }
  }
  return { ok: false, reason: `"${v.slice(0, 40)}" is not a URN (tel:+…, whatsapp:…, wauser:…)` }
}

/**
 * The `tel:` number an SMS fallback goes to: the message's own URN when it is a number, else the
 * contact's number that the wa_id stands for (equal or equivalent digits), else its first number.
 */
export function pickTelUrn(messageUrn: string, contactUrns: readonly string[]): string | undefined {
  if (messageUrn.startsWith('tel:')) return messageUrn
  const tels = contactUrns.filter((u) => u.startsWith('tel:'))
  if (messageUrn.startsWith('whatsapp:')) {
    const waId = messageUrn.slice('whatsapp:'.length)
    const same = tels.find((t) => digits(t) === waId) ?? tels.find((t) => areEquivalent(t.slice(4), waId))
    if (same) return same
  }
  return tels[0]
}

/**
 * The text of an SMS standing in for a WhatsApp message: text as is; media as the caption (or a
 * document's file name) and the link; a location as its name, address and a map link; buttons
 * and lists as their body with the choices listed. Templates (their text lives at the provider)
 * and reactions (meaningless outside the chat) are refused: give the action a `text` for them.
 *
 * @example
 * smsTextOf({ type: 'image', media: { url: 'https://cdn.example/p.jpg', caption: 'Your receipt' } })
 * // { ok: true, text: 'Your receipt\nhttps://cdn.example/p.jpg' }
 */
export function smsTextOf(content: OutboundContent): { ok: true; text: string } | { ok: false; reason: string } {
  const lines = (...parts: Array<string | undefined>) => parts.filter((p): p is string => p !== undefined && p.trim() !== '').join('\n')
  switch (content.type) {
    case 'text':
      return { ok: true, text: content.text }
    case 'location': {
      const { latitude, longitude, name, address } = content.location
      return { ok: true, text: lines(name, address, `https://maps.google.com/?q=${latitude},${longitude}`) }
    }
    case 'interactive': {
      const i = content.interactive
      const choices = i.type === 'button' ? i.buttons.map((b) => `- ${b.title}`) : i.sections.flatMap((s) => s.rows.map((r) => `- ${r.title}${r.description ? `: ${r.description}` : ''}`))
      return { ok: true, text: lines(i.header?.text, i.body, ...choices, i.footer) }
    }
    case 'template':
      return { ok: false, reason: 'a template has no text of its own here (it lives at the provider); give the fallback_send action a "text"' }
    case 'reaction':
      return { ok: false, reason: 'a reaction means nothing outside the WhatsApp chat; give the fallback_send action a "text" to send one anyway' }
    default: {
      const media = content.media
      if (!media.url) return { ok: false, reason: `the ${content.type} was sent by provider media id, so there is no link to put in an SMS` }
      return { ok: true, text: lines(media.caption ?? (content.type === 'document' ? media.filename : undefined), media.url) }
    }
  }
}

/** The message a fallback stands in for, as the store keeps it. */
export interface OriginalMessage {
  id: string
  direction: string
  urn: string
  content: OutboundContent
  metadata: Record<string, unknown> | null
  reply_ref: string | null
}

/** The body of the fallback's send request (checked by the same parser as POST /v1/messages). */
export type FallbackRequest = { account: string; to: string; metadata: Record<string, unknown>; reply_ref?: string; type: string } & Record<string, unknown>

/**
 * The send request of a fallback: through an SMS account, text (see smsTextOf) to the contact's
 * number; through a WhatsApp account, the same content to the same address. The metadata keeps
 * the original's (without its split-part bookkeeping) and adds where the message comes from.
 */
export function fallbackRequest(
  original: OriginalMessage,
  target: { name: string; channel: string },
  contactUrns: readonly string[],
  step: Extract<Step, { type: 'fallback_send' }>,
): { ok: true; request: FallbackRequest } | { ok: false; reason: string } {
  if (original.direction !== 'out') return { ok: false, reason: `${original.id} is not an outbound message` }
  const { part: _part, parts: _parts, ...kept } = original.metadata ?? {}
  const metadata = { ...kept, [FALLBACK_OF_KEY]: original.id, [FALLBACK_RULES_KEY]: step.chain }
  const base = { account: target.name, metadata, ...(original.reply_ref ? { reply_ref: original.reply_ref } : {}) }
  if (target.channel === 'sms') {
    const to = pickTelUrn(original.urn, contactUrns)
    if (!to) return { ok: false, reason: 'the contact has no tel: number to send an SMS to' }
    const text = step.text !== undefined ? { ok: true as const, text: step.text } : smsTextOf(original.content)
    if (!text.ok) return text
    if (text.text.trim() === '') return { ok: false, reason: 'the fallback text is empty' }
    return { ok: true, request: { ...base, to: to.slice(4), type: 'text', text: text.text } }
  }
  const content: Record<string, unknown> = step.text !== undefined ? { type: 'text', text: step.text } : { ...original.content }
  const to = original.urn.startsWith('tel:') ? original.urn.slice(4) : original.urn
  return { ok: true, request: { ...base, to, type: String(content.type), ...content } }
}
