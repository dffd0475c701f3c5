import type { DeliveryAttemptTable, DeliveryTable, SubscriptionTable } from '../../store/schema.js'
import { iso } from '../clock.js'

/**
 * How subscriptions and deliveries look in the API (snake_case, ISO times). The signing secret is
 * never part of a view: it is shown once, by `create`.
 *
 * @example
 * subscriptionView(row) // { id: 'sub_…', url, topics: ['message.>'], state: 'active', … }
 */
const at = (ms: number | null) => (ms === null ? null : iso(Number(ms)))

export interface SubscriptionView {
  id: string
  kind: string
  url: string
  topics: string[]
  target: Record<string, unknown> | null
  description: string | null
  state: string
  disabled_reason: string | null
  disabled_at: string | null
  max_in_flight: number
  timeout_ms: number
  last_success_at: string | null
  created_at: string
  updated_at: string
}

export function subscriptionView(row: SubscriptionTable): SubscriptionView {
  return {
    id: row.id,
    kind: row.kind,
    url: row.url,
    topics: JSON.parse(row.topics) as string[],
    target: row.target ? publicTarget(row.target) : null,
    description: row.description,
    state: row.state,
    disabled_reason: row.disabled_reason,
    disabled_at: at(row.disabled_at),
    max_in_flight: Number(row.max_in_flight),
    timeout_ms: Number(row.timeout_ms),
    last_success_at: at(row.last_success_at),
    created_at: iso(Number(row.created_at)),
    updated_at: iso(Number(row.updated_at)),
  }
}

/** Sink settings without the sealed connection URL. */
function publicTarget(text: string): Record<string, unknown> {
  const { connection_sealed: _sealed, ...rest } = JSON.parse(text) as Record<string, unknown>
  return rest
}

export type DeliveryRow = DeliveryTable & { event_type: string | null; event_topic: string | null }
export type AttemptRow = Omit<DeliveryAttemptTable, 'id'> & { id: number }

export function deliveryView(row: DeliveryRow, attempts: AttemptRow[]) {
  return {
    id: row.id,
    subscription_id: row.subscription_id,
    event_id: row.event_id,
    event_type: row.event_type,
    topic: row.event_topic,
    state: row.state,
    attempts: Number(row.attempts),
    next_attempt_at: row.state === 'pending' ? at(row.next_attempt_at) : null,
    last_status: row.last_status,
    last_error: row.last_error,
    last_latency_ms: row.last_latency_ms,
    created_at: iso(Number(row.created_at)),
    updated_at: iso(Number(row.updated_at)),
    delivered_at: at(row.delivered_at),
    attempt_log: attempts.map((a) => ({
      attempt: Number(a.attempt),
      at: iso(Number(a.at)),
      status_code: a.status_code,
      latency_ms: Number(a.latency_ms),
      error: a.error,
      response_excerpt: a.response_excerpt,
    })),
  }
}

export type DeliveryView = ReturnType<typeof deliveryView>
