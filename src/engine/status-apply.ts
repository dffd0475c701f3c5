import { advance, type MessageStatus } from '../domain/status.js'
import type { NormalizedError } from '../domain/errors.js'
import { topic } from '../domain/topics.js'
import type { Tx } from '../store/db.js'
import { isPostgresTx } from '../store/locks.js'
import { prepared } from '../store/prepared.js'
import type { MessageTable } from '../store/schema.js'
import { appendEvent, type Envelope } from './events.js'
import { messageSummary } from './messages.js'

/**
 * Applies one status to an outbound message inside a transaction: the history row is written once
 * (a unique constraint drops duplicates), the status only moves forward, and an event is appended
 * only when it did move.
 *
 * @example
 * const out = await applyStatus(tx, { message, accountName: 'acme', status: 'read', providerStatus: 'read', at }, now)
 */
export interface StatusChange {
  message: MessageTable
  accountName: string
  status: MessageStatus
  providerStatus: string
  at: number
  error?: NormalizedError
  /** Extra fields for the event's message summary (e.g. the provider id just learned). */
  extra?: Record<string, unknown>
}

export interface Applied {
  changed: boolean
  duplicate: boolean
  message: MessageTable
  envelope?: Envelope
}

/** The advisory-lock key of a provider message id (store/locks.ts): held to apply or park its statuses. */
export const parkKey = (accountId: string, providerMessageId: string) => `pmid:${accountId}:${providerMessageId}`

// Compiled once (store/prepared.ts): every status webhook runs these.
const insertHistory = prepared((db, p: { messageId: string; status: string; providerStatus: string; at: number; error: string | null }) =>
  db
    .insertInto('message_history')
    .values({ message_id: p.messageId, status: p.status, provider_status: p.providerStatus, at: p.at, error: p.error })
    .onConflict((oc) => oc.columns(['message_id', 'status', 'provider_status']).doNothing()),
)
/** PostgreSQL only (FOR UPDATE): SQLite has one writer and never runs it. */
const lockMessageStatus = prepared((db, p: { id: string }) => db.selectFrom('messages').select('status').where('id', '=', p.id).forUpdate())
const updateMessageStatus = prepared((db, p: { id: string; status: string; updatedAt: number; error: string | null }) =>
  db.updateTable('messages').set({ status: p.status, updated_at: p.updatedAt, error: p.error }).where('id', '=', p.id),
)

export async function applyStatus(tx: Tx, change: StatusChange, now: number): Promise<Applied> {
  const inserted = await insertHistory(tx, {
    messageId: change.message.id,
    status: change.status,
    providerStatus: change.providerStatus,
    at: change.at,
    error: change.error ? JSON.stringify(change.error) : null,
  })
  const duplicate = Number(inserted.numAffectedRows ?? 0) === 0
  // PostgreSQL: concurrent writers may change this message; lock its row and decide on the status
  // it has now (READ COMMITTED hands us the committed one), so the status only moves forward.
  const locked = isPostgresTx(tx) ? (await lockMessageStatus(tx, { id: change.message.id })).rows[0] : undefined
  if (locked) change = { ...change, message: { ...change.message, status: locked.status } }
  const next = advance(change.message.status as MessageStatus, change.status)
  if (!next.changed) return { changed: false, duplicate, message: change.message }
  const updated: MessageTable = {
    ...change.message,
    status: next.status,
    updated_at: now,
    ...(next.status === 'failed' && change.error ? { error: JSON.stringify(change.error) } : {}),
  }
  await updateMessageStatus(tx, { id: updated.id, status: updated.status, updatedAt: now, error: updated.error })
  const envelope = await appendEvent(
    tx,
    {
      tenantId: updated.tenant_id,
      type: 'message.status',
      topic: topic('message', change.accountName, next.status),
      account: change.accountName,
      data: {
        message: messageSummary(updated, change.accountName, next.status, {
          ...(change.error ? { error: change.error } : {}),
          ...change.extra,
        }),
      },
    },
    now,
  )
  return { changed: true, duplicate, message: updated, envelope }
}
