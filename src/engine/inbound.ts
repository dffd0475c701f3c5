import { newId } from '../domain/ids.js'
import { statusFromProvider } from '../domain/status.js'
import { topic } from '../domain/topics.js'
import type { ContactEvent, InboundMessage, StatusUpdate, WebhookItem } from '../providers/types.js'
import type { Store, Tx } from '../store/db.js'
import { lockKeys } from '../store/locks.js'
import { prepared } from '../store/prepared.js'
import type { MessageTable } from '../store/schema.js'
import type { Account } from './accounts.js'
import type { Clock } from './clock.js'
import { applyContactEvent, contactUrns, resolveContact } from './contacts.js'
import { appendEvent, type Envelope } from './events.js'
import { learnIdentity, sinkOf } from './identity.js'
import { onSendFailure } from './reachability.js' // identity (issue 4)
import { messageView } from './messages.js'
import { applyStatus, parkKey } from './status-apply.js'
import { onInboundStash } from './stash.js' // window (issue 5)
import { routeInbound } from './routing-refs.js'
import { routingView } from '../domain/routing.js'

/**
 * The inbound pipeline: every item of one verified webhook is applied in ONE transaction (dedupe
 * on provider ids by unique constraints, contact resolution, status merge, window, events), and
 * only then does the webhook route answer 200. A provider retry of the same webhook changes
 * nothing.
 */
// The statements every status webhook runs, compiled once (store/prepared.ts).
const messageByProviderId = prepared((db, p: { accountId: string; providerMessageId: string }) =>
  db.selectFrom('messages').selectAll().where('account_id', '=', p.accountId).where('provider_message_id', '=', p.providerMessageId),
)
const parkStatus = prepared((db, p: { accountId: string; providerMessageId: string; providerStatus: string; payload: string; receivedAt: number }) =>
  db
    .insertInto('parked_statuses')
    .values({ account_id: p.accountId, provider_message_id: p.providerMessageId, provider_status: p.providerStatus, payload: p.payload, received_at: p.receivedAt })
    .onConflict((oc) => oc.columns(['account_id', 'provider_message_id', 'provider_status']).doNothing()),
)

export interface IngestResult {
  messages: number
  statuses: number
  duplicates: number
  parked: number
  ignored: number
  rejected: number
  envelopes: Envelope[]
}

export function createInboundPipeline(opts: { store: Store; clock: Clock; onEvents?: (events: Envelope[]) => void }) {
  const { store, clock } = opts

  const ingestMessage = async (tx: Tx, account: Account, msg: InboundMessage, now: number, result: IngestResult) => {
    const tenantId = account.row.tenant_id
    const contact = await resolveContact(tx, tenantId, msg.from, now, { sink: sinkOf(account, result.envelopes), inbound: true }) // identity (issue 4)
    const replied = msg.context?.id
      ? await tx
          .selectFrom('messages')
          .select(['id', 'reply_ref'])
          .where('account_id', '=', account.row.id)
          .where('provider_message_id', '=', msg.context.id)
          .executeTakeFirst()
      : undefined
    const number = msg.from.phone ?? (msg.from.waId ? `+${msg.from.waId}` : (msg.from.userId ?? 'unknown'))
    // routing (issue 5): one decision by the DESIGN §9 precedence; a next-reply ref it uses is consumed once the row is in.
    const routed = await routeInbound(
      tx,
      contact ? { accountId: account.row.id, contactId: contact.contactId } : undefined,
      { account: account.row.name, from: number, text: msg.type === 'text' ? msg.text : undefined, replyRef: replied?.reply_ref, commands: account.settings.commands },
      now,
    )
    const routing = routed.decision.topic
    const { raw: _raw, from: _from, providerMessageId: _pid, timestamp: _ts, address: _addr, type: _type, ...fields } = msg
    const row: MessageTable = {
      id: newId('msg', now),
      tenant_id: tenantId,
      account_id: account.row.id,
      contact_id: contact?.contactId ?? null,
      direction: 'in',
      type: msg.type,
      content: JSON.stringify({ type: msg.type, ...fields, sender: msg.from, received_at: new Date(msg.timestamp).toISOString() }),
      urn: msg.from.phone ? `tel:${msg.from.phone}` : msg.from.waId ? `whatsapp:${msg.from.waId}` : `wauser:${msg.from.userId ?? 'unknown'}`,
      status: 'received',
      provider_message_id: msg.providerMessageId,
      error: msg.errors?.[0] ? JSON.stringify(msg.errors[0]) : null,
      attempts: 0,
      duplicate_risk: 0,
      reply_to: replied?.id ?? null,
      reply_ref: replied?.reply_ref ?? null,
      topic: routing,
      metadata: null,
      created_at: now,
      updated_at: now,
    }
    const inserted = await tx
      .insertInto('messages')
      .values(row)
      .onConflict((oc) => oc.columns(['account_id', 'provider_message_id']).doNothing())
      .executeTakeFirst()
    if (Number(inserted.numInsertedOrUpdatedRows ?? 0) === 0) {
      result.duplicates++
      return
    }
    result.messages++
    // routing (issue 5): only a stored (non-duplicate) message consumes the next-reply ref it used.
    const decision = await routed.commit()
    if (decision.topic !== row.topic) {
      row.topic = decision.topic
      await tx.updateTable('messages').set({ topic: decision.topic }).where('id', '=', row.id).execute()
    }
    await tx.insertInto('message_history').values({ message_id: row.id, status: 'received', provider_status: msg.type, at: msg.timestamp, error: null }).execute()
    if (contact) {
      await tx
        .insertInto('conversations')
        .values({ account_id: account.row.id, contact_id: contact.contactId, last_inbound_at: now, updated_at: now })
        .onConflict((oc) => oc.columns(['account_id', 'contact_id']).doUpdateSet({ last_inbound_at: now, updated_at: now }))
        .execute()
    }
    // window (issue 5): the window just opened; a decline fails the contact's stashed messages, anything else releases them
    if (contact) await onInboundStash(tx, account, contact.contactId, msg, now, result.envelopes)
    const urns = contact ? (await contactUrns(tx, contact.contactId)).map((u) => u.urn) : []
    result.envelopes.push(
      await appendEvent(
        tx,
        {
          tenantId,
          type: 'message.inbound',
          topic: decision.topic,
          account: account.row.name,
          data: { message: messageView(row, account.row.name), contact: contact ? { id: contact.contactId, urns } : null, routing: routingView(decision) },
        },
        now,
      ),
    )
  }

  const ingestStatus = async (tx: Tx, account: Account, st: StatusUpdate, now: number, result: IngestResult) => {
    const status = statusFromProvider(st.status)
    if (!status) {
      result.ignored++
      return
    }
    // PostgreSQL: the worker recording this send takes the same lock before it reads parked
    // statuses, so a status is either applied here or parked where the worker will see it.
    await lockKeys(tx, [parkKey(account.row.id, st.providerMessageId)])
    const message = (await messageByProviderId(tx, { accountId: account.row.id, providerMessageId: st.providerMessageId })).rows[0]
    if (!message || message.direction !== 'out') {
      // The send result may not be recorded yet: park the status; the worker applies it then.
      await parkStatus(tx, { accountId: account.row.id, providerMessageId: st.providerMessageId, providerStatus: st.providerStatus, payload: JSON.stringify(st), receivedAt: now })
      result.parked++
      return
    }
    await applyParsedStatus(tx, account, message, st, now, result.envelopes)
    result.statuses++
  }

  // identity (issue 4): wa_id / user id learning, opt-out and opt-in — contacts.ts applyContactEvent
  const ingestContactEvent = (tx: Tx, account: Account, ev: ContactEvent, now: number, result: IngestResult) => applyContactEvent(tx, account, ev, now, result.envelopes)

  return {
    async ingest(account: Account, items: WebhookItem[]): Promise<IngestResult> {
      const result: IngestResult = { messages: 0, statuses: 0, duplicates: 0, parked: 0, ignored: 0, rejected: 0, envelopes: [] }
      const useful = items.filter((i) => i.kind !== 'ignored' && i.kind !== 'rejected')
      result.ignored = items.filter((i) => i.kind === 'ignored').length
      result.rejected = items.filter((i) => i.kind === 'rejected').length
      if (useful.length === 0) return result
      await store.write(async (tx) => {
        const now = clock.now()
        // A PostgreSQL retry runs this again: start the tallies over.
        Object.assign(result, { messages: 0, statuses: 0, duplicates: 0, parked: 0, envelopes: [] })
        for (const item of useful) {
          if (item.kind === 'message') await ingestMessage(tx, account, item.message, now, result)
          else if (item.kind === 'status') await ingestStatus(tx, account, item.status, now, result)
          else if (item.kind === 'contact') await ingestContactEvent(tx, account, item.event, now, result)
          else if (item.kind === 'account_error') {
            result.envelopes.push(
              await appendEvent(
                tx,
                { tenantId: account.row.tenant_id, type: 'account.error', topic: topic('account', account.row.name, 'error'), account: account.row.name, data: { error: item.error } },
                now,
              ),
            )
          }
        }
      })
      opts.onEvents?.(result.envelopes)
      return result
    },
  }
}

export type InboundPipeline = ReturnType<typeof createInboundPipeline>

/** Applies a provider status to a known outbound message; shared by webhooks and parked statuses. */
export async function applyParsedStatus(tx: Tx, account: Account, message: MessageTable, st: StatusUpdate, now: number, envelopes: Envelope[]) {
  const status = statusFromProvider(st.status)
  if (!status) return
  const applied = await applyStatus(tx, { message, accountName: account.row.name, status, providerStatus: st.providerStatus, at: st.timestamp, ...(st.error ? { error: st.error } : {}) }, now)
  if (applied.envelope) envelopes.push(applied.envelope)
  if (message.contact_id && (st.recipient.waId || st.recipient.userId)) {
    await learnIdentity(tx, account, message.contact_id, { waId: st.recipient.waId, userId: st.recipient.userId, phone: phoneOfUrn(message.urn) }, now, envelopes)
  }
  if (applied.changed && status === 'failed' && st.error) await onSendFailure(tx, account, message, st.error, now, envelopes) // identity (issue 4)
}

function phoneOfUrn(u: string): string | undefined {
  return u.startsWith('tel:') ? u.slice(4) : undefined
}
