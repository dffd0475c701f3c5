import type { Generated } from 'kysely'

/**
 * Table shapes. Times are unix milliseconds (bigint), JSON is stored as text, so one schema serves
 * SQLite and PostgreSQL with the same queries.
 */
export interface TenantTable {
  id: string
  name: string
  default_country: string | null
  created_at: number
}

export interface ApiKeyTable {
  id: string
  tenant_id: string
  key_hash: string
  /** First characters of the key, to tell keys apart in listings. */
  prefix: string
  created_at: number
}

export interface AccountTable {
  id: string
  tenant_id: string
  name: string
  provider: string
  channel: string
  phone_number: string
  /** Provider config sealed with the instance secret key. */
  config_sealed: string
  /** Provider-side address used for app-wide webhook routing (Meta phone_number_id). */
  route_key: string | null
  default_country: string | null
  window_policy: string
  rate_limit: number
  /** JSON: sandbox flag, interaction template, split_long_text, allow_private_media… */
  settings: string
  created_at: number
  updated_at: number
}

export interface ContactTable {
  id: string
  tenant_id: string
  name: string | null
  /** `active` or `blocked` (the business's choice), or `merged` (see merged_into). */
  state: string
  created_at: number
  updated_at: number
  /** Set when this contact was folded into another one (0002_identity). */
  merged_into?: string | null
}

export interface ContactUrnTable {
  id: string
  tenant_id: string
  contact_id: string
  urn: string
  unreachable_until: number | null
  unreachable_reason: string | null
  created_at: number
}

export interface MessageTable {
  id: string
  tenant_id: string
  account_id: string
  contact_id: string | null
  direction: string
  type: string
  /** JSON of the normalized content (outbound) or parsed inbound fields. */
  content: string
  /** The address used on the wire: `tel:+…`, `whatsapp:…`, `wauser:…`. */
  urn: string
  status: string
  provider_message_id: string | null
  /** JSON NormalizedError. */
  error: string | null
  attempts: number
  /** Sends that may have reached the provider before a retry (timeouts): possible duplicates. */
  duplicate_risk: number
  reply_to: string | null
  reply_ref: string | null
  topic: string | null
  metadata: string | null
  created_at: number
  updated_at: number
  /** The message this one stands in for, sent by a rule's fallback_send (0006_rules). */
  fallback_of?: string | null
}

export interface MessageHistoryTable {
  id: Generated<number>
  message_id: string
  status: string
  provider_status: string
  at: number
  /** JSON NormalizedError, for failed. */
  error: string | null
}

export interface ParkedStatusTable {
  id: Generated<number>
  account_id: string
  provider_message_id: string
  provider_status: string
  /** JSON StatusUpdate. */
  payload: string
  received_at: number
}

export interface OutboxTable {
  message_id: string
  account_id: string
  run_at: number
  attempts: number
  lease_owner: string | null
  lease_until: number | null
  created_at: number
  /** The message's wire URN (0007_scale): per-recipient order across worker processes. */
  recipient?: string | null
}

export interface EventTable {
  seq: Generated<number>
  id: string
  tenant_id: string
  type: string
  topic: string
  account: string | null
  created_at: number
  /** JSON of the envelope's `data`. */
  data: string
}

export interface IdempotencyTable {
  tenant_id: string
  key: string
  request_hash: string
  state: string
  response_status: number | null
  response_body: string | null
  created_at: number
}

export interface ConversationTable {
  account_id: string
  contact_id: string
  last_inbound_at: number | null
  updated_at: number
  /** The contact opted out of this account (0002_identity); cleared by an opt-in. */
  stopped_at?: number | null
  stopped_reason?: string | null
}

/** A webhook endpoint (or broker sink) with topic patterns (DESIGN §2, §10). */
export interface SubscriptionTable {
  id: string
  tenant_id: string
  /** `webhook`, `nats` or `redis`. */
  kind: string
  /** The webhook URL, or the broker URL for a sink. */
  url: string
  /** JSON array of NATS-style topic patterns. */
  topics: string
  /** JSON of sink settings (subject prefix, stream name); null for webhooks. */
  target: string | null
  /** The `whsec_` signing secret, sealed with the instance secret key. */
  secret_sealed: string
  description: string | null
  /** `active` or `disabled`. */
  state: string
  disabled_reason: string | null
  disabled_at: number | null
  max_in_flight: number
  timeout_ms: number
  /** Last event sequence already fanned out to this subscription. */
  cursor_seq: number
  last_success_at: number | null
  created_at: number
  updated_at: number
}

/** One event owed to one subscription: the durable delivery queue. */
export interface DeliveryTable {
  id: string
  tenant_id: string
  subscription_id: string
  event_id: string
  event_seq: number
  /** `pending`, `delivered` or `failed`. */
  state: string
  attempts: number
  /** Position in the retry schedule for the current round (reset by retry/replay). */
  retry_index: number
  round_started_at: number
  next_attempt_at: number | null
  lease_until: number | null
  last_status: number | null
  last_error: string | null
  last_latency_ms: number | null
  created_at: number
  updated_at: number
  delivered_at: number | null
}

export interface DeliveryAttemptTable {
  id: Generated<number>
  delivery_id: string
  attempt: number
  at: number
  status_code: number | null
  latency_ms: number
  error: string | null
  /** The first bytes of the endpoint's answer, for debugging. */
  response_excerpt: string | null
}

/** Routing state of one (account, contact) (0004_routing, DESIGN §9): each ref is active until its expiry. */
export interface RoutingRefTable {
  account_id: string
  contact_id: string
  tenant_id: string
  session_ref: string | null
  session_expires_at: number | null
  nextreply_ref: string | null
  nextreply_expires_at: number | null
  updated_at: number
}

/** A rule (0006_rules): when an event matches its topics and conditions, its actions run once. */
export interface RuleTable {
  id: string
  tenant_id: string
  /** Unique per tenant; names the rule's own events (`rule.<name>.fired`). */
  name: string
  description: string | null
  /** JSON array of NATS-style topic patterns. */
  topics: string
  /** JSON array of conditions ({path, op, value}). */
  conditions: string
  /** JSON array of actions. */
  actions: string
  /** The `whsec_` secret that signs the rule's webhook actions, sealed with the instance key. */
  secret_sealed: string
  /** Last event sequence this rule has looked at. */
  cursor_seq: number
  created_at: number
  updated_at: number
}

/** One run of a rule on one event (unique per (rule_id, event_id)). */
export interface RuleRunTable {
  id: string
  tenant_id: string
  rule_id: string
  event_id: string
  event_seq: number
  /** `fired`, `failed`, or `webhooks` (store actions done, webhook actions still to post). */
  state: string
  /** JSON: each action's outcome, and the error of a failed run. */
  result: string
  created_at: number
  updated_at: number
}

/** A registered message template (0005_window_templates, DESIGN §8), checked before sending. */
export interface TemplateTable {
  id: string
  tenant_id: string
  account_id: string
  name: string
  language: string
  /** `MARKETING`, `UTILITY` or `AUTHENTICATION`. */
  category: string
  /** Provider review status (`APPROVED`, `PENDING`…); only approved templates can be sent. */
  status: string
  header_params: number
  body_params: number
  /** JSON array of `{type, parameters}`, in the template's button order. */
  buttons: string
  /** JSON of the provider's components when known (sync, or given at registration). */
  components: string | null
  /** `api` (registered by a caller) or `sync` (read from the provider). */
  source: string
  created_at: number
  updated_at: number
}

/** An outbound message held while the window is closed (status `stashed`, no outbox row yet). */
export interface StashedMessageTable {
  message_id: string
  tenant_id: string
  account_id: string
  /** The contact at stash time. */
  contact_id: string
  stashed_at: number
  /** After this the message fails with `stash_expired`. */
  expires_at: number
}

/** One (account, contact) with stashed messages and the interaction request sent for them. */
export interface StashEpisodeTable {
  account_id: string
  contact_id: string
  tenant_id: string
  request_message_id: string
  started_at: number
}

export interface Database {
  tenants: TenantTable
  api_keys: ApiKeyTable
  accounts: AccountTable
  contacts: ContactTable
  contact_urns: ContactUrnTable
  messages: MessageTable
  message_history: MessageHistoryTable
  parked_statuses: ParkedStatusTable
  outbox: OutboxTable
  events: EventTable
  idempotency_keys: IdempotencyTable
  conversations: ConversationTable
  subscriptions: SubscriptionTable
  deliveries: DeliveryTable
  delivery_attempts: DeliveryAttemptTable
  rules: RuleTable
  rule_runs: RuleRunTable
  routing_refs: RoutingRefTable
  templates: TemplateTable
  stashed_messages: StashedMessageTable
  stash_episodes: StashEpisodeTable
}
