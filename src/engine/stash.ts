import type { Template } from '../domain/content.js'
import type { NormalizedError } from '../domain/errors.js'
import { newId } from '../domain/ids.js'
import { topic } from '../domain/topics.js'
import { closedWindowDecision, replyIntent, windowOf, type InteractionTemplate, type WindowPolicy } from '../domain/window.js'
import type { InboundMessage } from '../providers/types.js'
import type { Tx } from '../store/db.js'
import type { MessageTable } from '../store/schema.js'
import type { Account } from './accounts.js'
import { ApiError } from './api-error.js'
import { appendEvent, type Envelope } from './events.js'
import { insertAcceptedHistory, insertMessage, insertOutboxJob } from './message-statements.js'
import { messageSummary } from './messages.js'
import { applyStatus } from './status-apply.js'
import { checkTemplate } from './templates.js'

/**
 * The closed-window policy and the stash (DESIGN §8), inside the transactions that cause them:
 * - `windowGate` (accept): an open window or a template sends; a closed one follows the account's
 *   policy — `reject` throws `outside_window`, `stash` holds the message, `send` lets the provider decide;
 * - `stashAccepted` (accept): the held messages get a `stashed_messages` row (no outbox row) and, once
 *   per episode, the account's interaction template is queued to the contact;
 * - `onInboundStash` (inbound, after the window was refreshed): a tapped decline payload fails every
 *   stashed message with `recipient_declined`; any other inbound message releases them, in order;
 * - `releaseStash` / `failStash` are shared with the sweeper (stash-sweeper.ts), which expires them.
 *
 * @example
 * const decision = await windowGate(tx, account, contactId, 'text', now)   // 'send' | 'stash', or throws outside_window
 * if (decision === 'stash') envelopes.push(...await stashAccepted(tx, account, { contactId, urn, ids, now }))
 */

/** Decides at accept time; throws ApiError `outside_window` for the `reject` policy. */
export async function windowGate(tx: Tx, account: Account, contactId: string | undefined, type: string, now: number): Promise<'send' | 'stash'> {
  // SMS has no customer-service window; a message without a contact has nobody to ask.
  if (account.row.channel !== 'whatsapp' || !contactId) return 'send'
  const policy = account.row.window_policy as WindowPolicy
  if (policy === 'send' || type === 'template') return 'send'
  const conversation = await tx.selectFrom('conversations').select('last_inbound_at').where('account_id', '=', account.row.id).where('contact_id', '=', contactId).executeTakeFirst()
  const window = windowOf(conversation?.last_inbound_at == null ? null : Number(conversation.last_inbound_at), now)
  const decision = closedWindowDecision(policy, type, window)
  if (decision === 'reject') {
    throw new ApiError(
      'outside_window',
      `the 24-hour window with contact ${contactId} is closed${window.expiresAt !== null ? ` (it closed at ${new Date(window.expiresAt).toISOString()})` : ' (the contact never wrote to this account)'}; account "${account.row.name}" rejects free-form messages outside it: send a template`,
    )
  }
  return decision === 'stash' ? 'stash' : 'send'
}

/** The template content of the account's interaction request. */
export function interactionContent(t: InteractionTemplate): { type: 'template'; template: Template } {
  return {
    type: 'template',
    template: {
      name: t.name,
      language: t.language,
      ...(t.parameters.length > 0 ? { components: [{ type: 'body', parameters: t.parameters.map((text) => ({ type: 'text' as const, text })) }] } : {}),
    },
  }
}

export interface StashInput {
  tenantId: string
  contactId: string
  /** The wire URN of the held messages; the interaction request goes to the same address. */
  urn: string
  /** The held messages, already inserted with status `stashed`, in send order. */
  ids: string[]
  now: number
}

/**
 * Records the held messages and, when this starts the contact's stash episode, queues the
 * interaction request (once: the episode's primary key settles concurrent accepts).
 */
export async function stashAccepted(tx: Tx, account: Account, input: StashInput): Promise<Envelope[]> {
  const { tenantId, contactId, urn, ids, now } = input
  const template = account.settings.interaction_template
  const expiresAt = now + account.settings.stash_ttl_minutes * 60_000
  await tx
    .insertInto('stashed_messages')
    .values(ids.map((id) => ({ message_id: id, tenant_id: tenantId, account_id: account.row.id, contact_id: contactId, stashed_at: now, expires_at: expiresAt })))
    .execute()
  const existing = await tx.selectFrom('stash_episodes').select('request_message_id').where('account_id', '=', account.row.id).where('contact_id', '=', contactId).executeTakeFirst()
  if (existing) return []
  if (!template) throw new ApiError('outside_window', `the window with contact ${contactId} is closed and account "${account.row.name}" has no interaction_template to ask the contact to reply`)
  const content = interactionContent(template)
  await checkTemplate(tx, account, content.template, 'interaction_template')
  const requestId = newId('msg', now)
  const started = await tx
    .insertInto('stash_episodes')
    .values({ account_id: account.row.id, contact_id: contactId, tenant_id: tenantId, request_message_id: requestId, started_at: now })
    .onConflict((oc) => oc.columns(['account_id', 'contact_id']).doNothing())
    .executeTakeFirst()
  if (Number(started.numInsertedOrUpdatedRows ?? 0) === 0) return []
  const row: MessageTable = {
    id: requestId,
    tenant_id: tenantId,
    account_id: account.row.id,
    contact_id: contactId,
    direction: 'out',
    type: 'template',
    content: JSON.stringify(content),
    urn,
    status: 'queued',
    provider_message_id: null,
    error: null,
    attempts: 0,
    duplicate_risk: 0,
    reply_to: null,
    reply_ref: null,
    topic: null,
    metadata: JSON.stringify({ interaction_request: true, stashed: ids }),
    created_at: now,
    updated_at: now,
  }
  await insertMessage(tx, row)
  await insertAcceptedHistory(tx, { id: requestId, at: now, acceptedBy: 'interaction_request', nextStatus: 'queued', nextProviderStatus: 'outbox' })
  await insertOutboxJob(tx, { messageId: requestId, accountId: account.row.id, runAt: now, recipient: row.urn })
  return [
    await appendEvent(
      tx,
      { tenantId, type: 'message.status', topic: topic('message', account.row.name, 'accepted'), account: account.row.name, data: { message: messageSummary(row, account.row.name, 'accepted') } },
      now,
    ),
  ]
}

/** Stashed messages of one (account, contact), oldest first. */
async function stashedOf(tx: Tx, accountId: string, contactId: string): Promise<MessageTable[]> {
  return tx
    .selectFrom('stashed_messages')
    .innerJoin('messages', 'messages.id', 'stashed_messages.message_id')
    .selectAll('messages')
    .where('stashed_messages.account_id', '=', accountId)
    .where('stashed_messages.contact_id', '=', contactId)
    .orderBy('stashed_messages.message_id')
    .execute()
}

async function endEpisodeIfEmpty(tx: Tx, accountId: string, contactId: string): Promise<void> {
  const left = await tx.selectFrom('stashed_messages').select('message_id').where('account_id', '=', accountId).where('contact_id', '=', contactId).limit(1).executeTakeFirst()
  if (!left) await tx.deleteFrom('stash_episodes').where('account_id', '=', accountId).where('contact_id', '=', contactId).execute()
}

/**
 * Sends every stashed message of (account, contact): each gets its outbox job (due now; the worker
 * keeps per-recipient order by id) and moves `stashed → queued` with a history row and an event.
 * Returns how many were released.
 */
export async function releaseStash(tx: Tx, accountName: string, accountId: string, contactId: string, reason: string, now: number, envelopes: Envelope[]): Promise<number> {
  const rows = await stashedOf(tx, accountId, contactId)
  let released = 0
  for (const message of rows) {
    if (message.status !== 'stashed') continue
    await tx
      .insertInto('outbox')
      .values({ message_id: message.id, account_id: message.account_id, run_at: now, attempts: 0, lease_owner: null, lease_until: null, created_at: now, recipient: message.urn })
      .onConflict((oc) => oc.column('message_id').doNothing())
      .execute()
    const applied = await applyStatus(tx, { message, accountName, status: 'queued', providerStatus: `released: ${reason}`, at: now }, now)
    if (applied.envelope) envelopes.push(applied.envelope)
    released++
  }
  if (rows.length > 0) await tx.deleteFrom('stashed_messages').where('message_id', 'in', rows.map((r) => r.id)).execute()
  await tx.deleteFrom('stash_episodes').where('account_id', '=', accountId).where('contact_id', '=', contactId).execute()
  return released
}

/** Fails the given stashed messages (all of the pair when `only` is absent) with `error`. */
export async function failStash(tx: Tx, accountName: string, accountId: string, contactId: string, error: NormalizedError, providerStatus: string, now: number, envelopes: Envelope[], only?: ReadonlySet<string>): Promise<number> {
  const rows = (await stashedOf(tx, accountId, contactId)).filter((r) => !only || only.has(r.id))
  let failed = 0
  for (const message of rows) {
    const applied = await applyStatus(tx, { message, accountName, status: 'failed', providerStatus, at: now, error }, now)
    if (applied.envelope) envelopes.push(applied.envelope)
    if (applied.changed) failed++
  }
  if (rows.length > 0) await tx.deleteFrom('stashed_messages').where('message_id', 'in', rows.map((r) => r.id)).execute()
  await endEpisodeIfEmpty(tx, accountId, contactId)
  return failed
}

/**
 * The inbound hook: runs in the inbound transaction after the conversation's window was refreshed.
 * Nothing to do (one primary-key read) unless the contact has a stash episode with this account.
 */
export async function onInboundStash(tx: Tx, account: Account, contactId: string, msg: Pick<InboundMessage, 'type' | 'button' | 'interactive' | 'providerMessageId'>, now: number, envelopes: Envelope[]): Promise<void> {
  const episode = await tx.selectFrom('stash_episodes').select('request_message_id').where('account_id', '=', account.row.id).where('contact_id', '=', contactId).executeTakeFirst()
  if (!episode) return
  const intent = replyIntent(msg, account.settings.interaction_template)
  if (intent === 'decline') {
    const tapped = msg.button ? (msg.button.payload ?? msg.button.text) : (msg.interactive?.id ?? '')
    const error: NormalizedError = { code: 'recipient_declined', retryable: false, provider_message: `the contact declined the interaction request ${episode.request_message_id} (tapped "${tapped}")` }
    await failStash(tx, account.row.name, account.row.id, contactId, error, 'declined', now, envelopes)
    await tx.deleteFrom('stash_episodes').where('account_id', '=', account.row.id).where('contact_id', '=', contactId).execute()
    return
  }
  await releaseStash(tx, account.row.name, account.row.id, contactId, intent === 'accept' ? 'accepted' : 'contact replied', now, envelopes)
}
