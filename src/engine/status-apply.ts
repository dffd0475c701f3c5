import { advance, type MessageStatus } from '../domain/status.js'
import type { NormalizedError } from '../domain/errors.js'
import { topic } from '../domain/topics.js'
import type { Tx } from '../store/db.js'
import { forUpdate, isPostgresTx } from '../store/locks.js'
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

export async function applyStatus(tx: Tx, change: StatusChange, now: number): Promise<Applied> {
  const inserted = await tx
    .insertInto('message_history')
    .values({
      message_id: change.message.id,
      status: change.status,
      provider_status: change.providerStatus,
      at: change.at,
      error: change.error ? JSON.stringify(change.error) : null,
    })
    .onConflict((oc) => oc.columns(['message_id', 'status', 'provider_status']).doNothing())
    .executeTakeFirst()
  const duplicate = Number(inserted.numInsertedOrUpdatedRows ?? 0) === 0
  // PostgreSQL: concurrent writers may change this message; lock its row and decide on the status
  // it has now (READ COMMITTED hands us the committed one), so the status only moves forward.
  const locked = isPostgresTx(tx) ? await forUpdate(tx, tx.selectFrom('messages').select('status').where('id', '=', change.message.id)).executeTakeFirst() : undefined
  if (locked) change = { ...change, message: { ...change.message, status: locked.status } }
  const next = advance(change.message.status as MessageStatus, change.status)
  if (!next.changed) return { changed: false, duplicate, message: change.message }
  const updated: MessageTable = {
    ...change.message,
    status: next.status,
    updated_at: now,
    ...(next.status === 'failed' && change.error ? { error: JSON.stringify(change.error) } : {}),
  }
  await tx
    .updateTable('messages')
    .set({ status: updated.status, updated_at: now, error: updated.error })
    .where('id', '=', updated.id)
    .execute()
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
