import { prepared } from '../store/prepared.js'
import type { MessageTable } from '../store/schema.js'

/**
 * The statements that accept a message and record its send, compiled once (store/prepared.ts):
 * every message runs each of them.
 *
 * @example
 * await insertMessage(tx, row)
 * await insertAcceptedHistory(tx, { id: row.id, at: now, acceptedBy: 'api', nextStatus: 'queued', nextProviderStatus: 'outbox' })
 * await insertOutboxJob(tx, { messageId: row.id, accountId, runAt: now, recipient: row.urn })
 */
type MessageRow = Omit<MessageTable, 'fallback_of'>

export const insertMessage = prepared((db, p: MessageRow) =>
  db.insertInto('messages').values({
    id: p.id,
    tenant_id: p.tenant_id,
    account_id: p.account_id,
    contact_id: p.contact_id,
    direction: p.direction,
    type: p.type,
    content: p.content,
    urn: p.urn,
    status: p.status,
    provider_message_id: p.provider_message_id,
    error: p.error,
    attempts: p.attempts,
    duplicate_risk: p.duplicate_risk,
    reply_to: p.reply_to,
    reply_ref: p.reply_ref,
    topic: p.topic,
    metadata: p.metadata,
    created_at: p.created_at,
    updated_at: p.updated_at,
  }),
)

/**
 * `accepted` (by the API, or as a window's interaction request), then where it went: `queued`
 * (outbox) or `stashed` (window closed).
 */
export const insertAcceptedHistory = prepared((db, p: { id: string; at: number; acceptedBy: 'api' | 'interaction_request'; nextStatus: string; nextProviderStatus: string }) =>
  db.insertInto('message_history').values([
    { message_id: p.id, status: 'accepted', provider_status: p.acceptedBy, at: p.at, error: null },
    { message_id: p.id, status: p.nextStatus, provider_status: p.nextProviderStatus, at: p.at, error: null },
  ]),
)

export const insertOutboxJob = prepared((db, p: { messageId: string; accountId: string; runAt: number; recipient: string }) =>
  db.insertInto('outbox').values({ message_id: p.messageId, account_id: p.accountId, run_at: p.runAt, attempts: 0, lease_owner: null, lease_until: null, created_at: p.runAt, recipient: p.recipient }),
)

export const messageById = prepared((db, p: { id: string }) => db.selectFrom('messages').selectAll().where('id', '=', p.id))

// The worker's, for every send it records.
export const recordProviderId = prepared((db, p: { id: string; providerMessageId: string; attempts: number; updatedAt: number }) =>
  db.updateTable('messages').set({ provider_message_id: p.providerMessageId, attempts: p.attempts, error: null, updated_at: p.updatedAt }).where('id', '=', p.id),
)

export const deleteOutboxJob = prepared((db, p: { messageId: string }) => db.deleteFrom('outbox').where('message_id', '=', p.messageId))

/** Statuses that arrived before the send was recorded (inbound.ts parks them), oldest first. */
export const parkedStatusesOf = prepared((db, p: { accountId: string; providerMessageId: string }) =>
  db.selectFrom('parked_statuses').selectAll().where('account_id', '=', p.accountId).where('provider_message_id', '=', p.providerMessageId).orderBy('id'),
)
