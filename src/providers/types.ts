import type { z } from 'zod'
import type { Dispatcher } from 'undici'
import type { ContentType, MediaKind, OutboundContent } from '../domain/content.js'
import type { NormalizedError } from '../domain/errors.js'

/**
 * The adapter contract (DESIGN §5). One object per provider; the engine owns all I/O except the
 * provider HTTP call made in `send()`. `verify` and `parse` are pure over the raw request.
 */

export type ProviderId = 'meta' | 'twilio' | 'sinch' | 'gupshup'
export type Channel = 'whatsapp' | 'sms'

/** A webhook request exactly as received: raw bytes, lower-cased header names, the full URL. */
export interface RawRequest {
  method: string
  /** Absolute URL as the provider called it (public base URL + path + query). */
  url: string
  headers: Readonly<Record<string, string | undefined>>
  body: Buffer
}

/** The account as an adapter sees it; `config` is the decrypted config parsed by `configSchema`. */
export interface AccountContext<C> {
  id: string
  name: string
  provider: ProviderId
  channel: Channel
  /** The sender's number, E.164 with `+`. */
  phoneNumber: string
  config: C
  /** The URL this account's provider calls back (status callbacks, inbound). */
  webhookUrl: string
}

/** Who a message goes to. At least one of the fields is set. */
export interface Recipient {
  /** E.164 with `+`. */
  phone?: string
  /** WhatsApp id digits, without `+` (may differ from the phone: Brazil, Mexico). */
  waId?: string
  /** Business-scoped user id, e.g. `US.13491208655302741918`. Never a phone number. */
  userId?: string
}

export interface OutboundMessage {
  /** wagate's id (`msg_…`). Adapters may pass it as a client reference / idempotency hint. */
  id: string
  to: Recipient
  content: OutboundContent
  /** Provider message id of the message this one replies to (quotes). */
  replyTo?: string
  /** 1 for the first try. */
  attempt: number
}

export interface SendContext {
  /** Abort the provider call after this long; the adapter throws SendError transient+maybeDelivered. */
  timeoutMs: number
  /** Shared connection pool; adapters pass it to undici. */
  dispatcher?: Dispatcher
}

export interface SendResult {
  providerMessageId: string
  /** The WhatsApp id the provider resolved the recipient to, when it says so. */
  waId?: string
  /** The business-scoped user id the provider returned, when it says so. */
  userId?: string
  /** The provider's initial status if it reports one (e.g. Twilio `queued`). */
  providerStatus?: string
  raw: unknown
}

/** Webhook authenticity verdict. `reason` is for logs, never for the HTTP response body. */
export type Verdict = { ok: true } | { ok: false; reason: string }

/** A person as a provider names them in a webhook. */
export interface Party {
  /** E.164 with `+` when the provider gives a phone number. */
  phone?: string
  waId?: string
  userId?: string
  parentUserId?: string
  name?: string
  username?: string
}

export type InboundType =
  | 'text'
  | MediaKind
  | 'location'
  | 'button'
  | 'interactive'
  | 'reaction'
  | 'contacts'
  | 'order'
  | 'system'
  | 'unsupported'

export interface InboundMedia {
  /** Provider media id (Meta) that needs a lookup to download. */
  id?: string
  /** Direct URL when the provider gives one (Twilio, Gupshup, Sinch). */
  url?: string
  mime_type?: string
  sha256?: string
  caption?: string
  filename?: string
}

export interface InboundMessage {
  providerMessageId: string
  from: Party
  /** Unix milliseconds. */
  timestamp: number
  type: InboundType
  text?: string
  media?: InboundMedia
  location?: { latitude: number; longitude: number; name?: string; address?: string; url?: string }
  /** Template quick-reply button tapped. */
  button?: { text: string; payload?: string }
  /** Interactive reply (button_reply, list_reply, nfm_reply…). */
  interactive?: { type: string; id: string; title: string; description?: string }
  /** Emoji '' means the reaction was removed. */
  reaction?: { message_id: string; emoji: string }
  /** For `unsupported`: the type the provider could not deliver (e.g. Meta `unsupported.type`). */
  unsupported?: { type: string }
  /** The message this one replies to / quotes. `id` is the provider message id. */
  context?: { id?: string; from?: string; forwarded?: boolean }
  errors?: NormalizedError[]
  /** Provider-specific address of the receiving number (Meta phone_number_id) for app-wide routing. */
  address?: string
  raw: unknown
}

/** Normalized provider status vocabulary. */
export type ProviderStatus = 'accepted' | 'queued' | 'sent' | 'delivered' | 'read' | 'failed' | 'deleted' | 'played'

export interface StatusUpdate {
  providerMessageId: string
  status: ProviderStatus
  /** The provider's own word for it, kept in the history. */
  providerStatus: string
  /** Unix milliseconds. */
  timestamp: number
  recipient: Party
  error?: NormalizedError
  address?: string
  raw: unknown
}

export interface ContactEvent {
  type: 'opted_in' | 'opted_out' | 'wa_id_changed' | 'user_id_changed'
  contact: Party
  /** For `wa_id_changed` / `user_id_changed`: the new id. */
  newWaId?: string
  newUserId?: string
  timestamp: number
  address?: string
  raw: unknown
}

export type WebhookItem =
  | { kind: 'message'; message: InboundMessage }
  | { kind: 'status'; status: StatusUpdate }
  | { kind: 'contact'; event: ContactEvent }
  /** An account-level error report (Meta `value.errors[]`). */
  | { kind: 'account_error'; error: NormalizedError; address?: string; raw: unknown }
  /** Well-formed but of no interest (other webhook fields, echo events…). */
  | { kind: 'ignored'; reason: string }
  /** Malformed or not what this provider sends. Nothing is written for it. */
  | { kind: 'rejected'; reason: string }

export interface MediaLimit {
  mimeTypes: readonly string[]
  maxBytes: number
}

export interface Capabilities {
  types: readonly ContentType[]
  media: Partial<Record<MediaKind, MediaLimit>>
  /** Longest text body the provider accepts in one message. */
  textMaxLength: number
  captionMaxLength: number
  /** Can send to a business-scoped user id. */
  userIdRecipients: boolean
}

/**
 * One provider. `C` is its typed config, parsed from the account's `config` by `configSchema`.
 *
 * @example
 * const adapter: ProviderAdapter<MetaConfig> = createMetaAdapter()
 * const result = await adapter.send(account, message, { timeoutMs: 10_000 })
 */
export interface ProviderAdapter<C = unknown> {
  id: ProviderId
  configSchema: z.ZodType<C>
  capabilities(channel: Channel): Capabilities
  /** Sends one message. Resolves with the provider id, or throws `SendError`. */
  send(account: AccountContext<C>, message: OutboundMessage, ctx: SendContext): Promise<SendResult>
  /** Checks the webhook's signature / token. Constant-time; rejects stale timestamps. */
  verify(account: AccountContext<C>, req: RawRequest): Verdict
  /** Parses a verified webhook. Never throws: hostile input yields `rejected` items. */
  parse(account: AccountContext<C>, req: RawRequest): WebhookItem[]
  /** Values of `config` that must never reach logs or API responses. */
  redact(config: C): string[]
  /**
   * Optional GET handshake (Meta `hub.challenge`). Returns the body to answer 200 with, or
   * undefined to refuse.
   */
  handshake?(account: AccountContext<C>, query: URLSearchParams): string | undefined
  /**
   * Optional app-wide routing: the account addresses (Meta phone_number_id) a webhook concerns,
   * read without trusting it; each is then verified and parsed as that account.
   */
  routeKeys?(req: RawRequest): string[]
  /** The value `routeKeys` returns for this account (Meta: `config.phone_number_id`). */
  routeKeyOf?(config: C): string
  /**
   * Optional: the account's message templates as the provider lists them (Meta
   * `GET /<WABA_ID>/message_templates`), for the template registry's sync. Throws `SendError`.
   */
  listTemplates?(account: AccountContext<C>, ctx: SendContext): Promise<ProviderTemplate[]>
}

/** One template as a provider lists it; `components` are Meta-style (`HEADER`, `BODY`, `BUTTONS`…). */
export interface ProviderTemplate {
  name: string
  language: string
  category: string
  status: string
  components: Array<Record<string, unknown>>
}
