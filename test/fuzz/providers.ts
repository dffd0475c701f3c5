import { createHash, createHmac } from 'node:crypto'
import twilio from 'twilio'
import type { AnyAdapter } from '../../src/providers/registry.js'
import type { AccountContext, ProviderId, RawRequest, WebhookItem } from '../../src/providers/types.js'
import { fixtureFiles } from '../harness/fixtures.js'

/**
 * One provider as the fuzz tests drive it: an account, the webhook fixtures, how a request is
 * built, and a signer written from the provider's documentation with node:crypto (Twilio: its
 * official package), never with the adapter's own code, so a correctly signed request is a real
 * positive control and a forged one a real negative.
 *
 * @example
 * const p = fuzzProviders.meta
 * adapter.verify(p.account(adapter), p.sign(p.request(Buffer.from('{}')))) // { ok: true }
 */
export interface FuzzProvider {
  format: 'json' | 'form'
  /** Whether the signature covers the body (Gupshup's URL token does not: it signs nothing). */
  bodyBound: boolean
  /** The account the adapter sees (config parsed by the adapter's own schema). */
  account(adapter: AnyAdapter): AccountContext<unknown>
  /** Fixture files that are webhooks (send requests/responses and signature vectors excluded). */
  webhooks: string[]
  /** The unsigned request the provider would send with this body. */
  request(body: Buffer): RawRequest
  /** The request authenticated the provider's way. */
  sign(req: RawRequest): RawRequest
  /** The request carrying `forgery` where the signature (or token) goes. */
  forge(req: RawRequest, forgery: string): RawRequest
  /** Whether `forgery` happens to be the right value (then the property does not apply). */
  isGenuine(req: RawRequest, forgery: string): boolean
}

const META_SECRET = 'fuzz-meta-app-secret'
const TWILIO_TOKEN = 'fuzz-twilio-auth-token'
const SINCH_SECRET = 'fuzz-sinch-webhook-secret'
const GUPSHUP_TOKEN = 'fuzzGupshupWebhookToken0123456789'
const ctx = (adapter: AnyAdapter, provider: ProviderId, name: string, phoneNumber: string, config: Record<string, unknown>, webhookUrl: string): AccountContext<unknown> => ({
  id: `acc_fuzz_${provider}`,
  name,
  provider,
  channel: 'whatsapp',
  phoneNumber,
  config: adapter.configSchema.parse(config),
  webhookUrl,
})

const metaSignature = (body: Buffer) => `sha256=${createHmac('sha256', META_SECRET).update(body).digest('hex')}`
const META_URL = 'https://gw.example/webhooks/meta/meta-fuzz'

const TWILIO_URL = 'https://gw.example/webhooks/twilio/tw-fuzz'
const twilioParams = (body: Buffer): Record<string, string | string[]> => {
  const out: Record<string, string | string[]> = Object.create(null) as Record<string, string | string[]>
  for (const [k, v] of new URLSearchParams(body.toString('utf8'))) {
    const seen = out[k]
    out[k] = seen === undefined ? v : Array.isArray(seen) ? [...seen, v] : [seen, v]
  }
  return out
}
const twilioSignature = (req: RawRequest) => twilio.getExpectedTwilioSignature(TWILIO_TOKEN, req.url, twilioParams(req.body))

const SINCH_URL = 'https://gw.example/webhooks/sinch/sinch-fuzz'
/** Sinch's signature (sinch.md §3), for tests that sign other timestamps or nonces. */
export const sinchSignature = (body: Buffer, nonce: string, timestamp: string) =>
  createHmac('sha256', Buffer.from(SINCH_SECRET, 'utf8'))
    .update(Buffer.concat([body, Buffer.from(`.${nonce}.${timestamp}`, 'utf8')]))
    .digest('base64')

const GUPSHUP_BASE = 'https://gw.example/webhooks/gupshup/gs-fuzz'
/** Lone surrogates become U+FFFD, as in any URL (String.prototype.toWellFormed, before ES2024 typings). */
const wellFormed = (s: string) => s.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd')

export const fuzzProviders: Record<ProviderId, FuzzProvider> = {
  meta: {
    format: 'json',
    bodyBound: true,
    account: (a) => ctx(a, 'meta', 'meta-fuzz', '+15550783881', { phone_number_id: '1122334455667', access_token: 'EAAfuzz', app_secret: META_SECRET, verify_token: 'fuzz-verify' }, META_URL),
    webhooks: fixtureFiles('meta').filter((f) => f.startsWith('webhook-')),
    request: (body) => ({ method: 'POST', url: META_URL, headers: { 'content-type': 'application/json' }, body }),
    sign: (req) => ({ ...req, headers: { ...req.headers, 'x-hub-signature-256': metaSignature(req.body) } }),
    forge: (req, forgery) => ({ ...req, headers: { ...req.headers, 'x-hub-signature-256': forgery } }),
    isGenuine: (req, forgery) => forgery.trim().toLowerCase() === metaSignature(req.body),
  },
  twilio: {
    format: 'form',
    bodyBound: true,
    account: (a) => ctx(a, 'twilio', 'tw-fuzz', '+14123456789', { account_sid: `AC${'0123456789abcdef'.repeat(2)}`, auth_token: TWILIO_TOKEN }, TWILIO_URL),
    webhooks: fixtureFiles('twilio').filter((f) => f.endsWith('.txt')),
    request: (body) => ({ method: 'POST', url: TWILIO_URL, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body }),
    sign: (req) => ({ ...req, headers: { ...req.headers, 'x-twilio-signature': twilioSignature(req) } }),
    forge: (req, forgery) => ({ ...req, headers: { ...req.headers, 'x-twilio-signature': forgery } }),
    isGenuine: (req, forgery) => forgery === twilioSignature(req),
  },
  sinch: {
    format: 'json',
    bodyBound: true,
    account: (a) => ctx(a, 'sinch', 'sinch-fuzz', '+46700000000', { project_id: 'proj', app_id: 'app', key_id: 'kid', key_secret: 'fuzz-key-secret', region: 'us', webhook_secret: SINCH_SECRET }, SINCH_URL),
    webhooks: fixtureFiles('sinch').filter((f) => /^(delivery_|inbound_|opt_out_|signed_)/.test(f)),
    request: (body) => ({ method: 'POST', url: SINCH_URL, headers: { 'content-type': 'application/json' }, body }),
    sign: (req) => {
      const nonce = '01HZFUZZNONCE000000000000'
      const timestamp = String(Math.floor(Date.now() / 1000))
      return {
        ...req,
        headers: {
          ...req.headers,
          'x-sinch-webhook-signature': sinchSignature(req.body, nonce, timestamp),
          'x-sinch-webhook-signature-nonce': nonce,
          'x-sinch-webhook-signature-timestamp': timestamp,
          'x-sinch-webhook-signature-algorithm': 'HmacSHA256',
        },
      }
    },
    forge: (req, forgery) => {
      const signed = fuzzProviders.sinch.sign(req)
      return { ...signed, headers: { ...signed.headers, 'x-sinch-webhook-signature': forgery } }
    },
    isGenuine: (req, forgery) => {
      const signed = fuzzProviders.sinch.sign(req)
      return forgery.trim() === signed.headers['x-sinch-webhook-signature']
    },
  },
  gupshup: {
    format: 'json',
    bodyBound: false,
    account: (a) => ctx(a, 'gupshup', 'gs-fuzz', '+917834811114', { api_key: 'fuzz-gs-api-key', app_name: 'FuzzApp', webhook_token: GUPSHUP_TOKEN }, `${GUPSHUP_BASE}/${GUPSHUP_TOKEN}`),
    webhooks: fixtureFiles('gupshup').filter((f) => /^(event-|inbound-|user-event-)/.test(f)),
    request: (body) => ({ method: 'POST', url: GUPSHUP_BASE, headers: { 'content-type': 'application/json', 'user-agent': 'Gupshup' }, body }),
    sign: (req) => ({ ...req, url: `${req.url}/${GUPSHUP_TOKEN}` }),
    // A URL cannot carry a lone surrogate: it is sent as U+FFFD, so that is what is forged.
    forge: (req, forgery) => ({ ...req, url: `${req.url}/${encodeURIComponent(wellFormed(forgery))}` }),
    isGenuine: (_req, forgery) => wellFormed(forgery) === GUPSHUP_TOKEN,
  },
}

/** A body of the right shape for the provider's content type. */
export function encodeForm(pairs: Array<[string, string]>): Buffer {
  return Buffer.from(new URLSearchParams(pairs).toString(), 'utf8')
}

export const sha256Hex = (body: Buffer) => createHash('sha256').update(body).digest('hex')

const KINDS = new Set(['message', 'status', 'contact', 'account_error', 'ignored', 'rejected'])
const INBOUND_TYPES = new Set(['text', 'image', 'audio', 'video', 'document', 'sticker', 'location', 'button', 'interactive', 'reaction', 'contacts', 'order', 'system', 'unsupported'])
const STATUSES = new Set(['accepted', 'queued', 'sent', 'delivered', 'read', 'failed', 'deleted', 'played'])
const CONTACT_EVENTS = new Set(['opted_in', 'opted_out', 'wa_id_changed', 'user_id_changed'])

const nonEmpty = (v: unknown): v is string => typeof v === 'string' && v.length > 0
/** The inbound pipeline writes `new Date(timestamp).toISOString()`: it must be a real date. */
const validTime = (v: unknown) => typeof v === 'number' && Number.isFinite(v) && Math.abs(v) <= 8.64e15

function partyProblem(party: unknown, what: string): string | undefined {
  if (party === null || typeof party !== 'object') return `${what} is not an object`
  const p = party as Record<string, unknown>
  // A sender with no id at all is tolerated (masked documentation payloads have one; the pipeline
  // stores such a message under an unknown sender rather than lose it), but ids given must be usable.
  for (const k of ['phone', 'waId', 'userId'] as const) if (p[k] !== undefined && !nonEmpty(p[k])) return `${what}.${k} is empty or not a string`
  if (p.phone !== undefined && !(typeof p.phone === 'string' && /^\+\d{1,20}$/.test(p.phone))) return `${what}.phone ${JSON.stringify(p.phone)} is not +digits`
  for (const k of ['waId', 'userId', 'name'] as const) if (p[k] !== undefined && typeof p[k] !== 'string') return `${what}.${k} is not a string`
  return undefined
}

/**
 * What the engine relies on in each parsed item; returns the first problem found, or undefined.
 *
 * @example
 * expect(itemProblem({ kind: 'message', message })).toBeUndefined()
 */
export function itemProblem(item: WebhookItem): string | undefined {
  if (item === null || typeof item !== 'object' || !KINDS.has(item.kind)) return `unknown item kind ${JSON.stringify((item as { kind?: unknown })?.kind)}`
  switch (item.kind) {
    case 'message': {
      const m = item.message
      if (!nonEmpty(m.providerMessageId)) return 'message without providerMessageId'
      if (!INBOUND_TYPES.has(m.type)) return `message type ${JSON.stringify(m.type)}`
      if (!validTime(m.timestamp)) return `message timestamp ${String(m.timestamp)} is not a valid time`
      if (m.text !== undefined && typeof m.text !== 'string') return 'message text is not a string'
      if (m.context?.id !== undefined && typeof m.context.id !== 'string') return 'message context.id is not a string'
      if (m.reaction && (typeof m.reaction.message_id !== 'string' || typeof m.reaction.emoji !== 'string')) return 'reaction fields are not strings'
      if (m.location && !(Number.isFinite(m.location.latitude) && Number.isFinite(m.location.longitude))) return 'location is not numbers'
      return partyProblem(m.from, 'message.from')
    }
    case 'status': {
      const s = item.status
      if (!nonEmpty(s.providerMessageId)) return 'status without providerMessageId'
      if (!STATUSES.has(s.status)) return `status ${JSON.stringify(s.status)}`
      if (typeof s.providerStatus !== 'string') return 'status without providerStatus'
      if (!validTime(s.timestamp)) return `status timestamp ${String(s.timestamp)} is not a valid time`
      if (s.recipient === null || typeof s.recipient !== 'object') return 'status without recipient object'
      if (s.error && (typeof s.error.code !== 'string' || typeof s.error.retryable !== 'boolean')) return 'status error is not normalized'
      return undefined
    }
    case 'contact': {
      const e = item.event
      if (!CONTACT_EVENTS.has(e.type)) return `contact event type ${JSON.stringify(e.type)}`
      if (!validTime(e.timestamp)) return `contact event timestamp ${String(e.timestamp)} is not a valid time`
      if (e.type === 'wa_id_changed' && !nonEmpty(e.newWaId)) return 'wa_id_changed without newWaId'
      return partyProblem(e.contact, 'contact')
    }
    case 'account_error':
      return typeof item.error?.code === 'string' && typeof item.error.retryable === 'boolean' ? undefined : 'account_error is not normalized'
    default:
      return nonEmpty(item.reason) ? undefined : `${item.kind} item without a reason`
  }
}
