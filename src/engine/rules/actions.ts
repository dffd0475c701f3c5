import type { OutboundContent } from '../../domain/content.js'
import type { NormalizedError } from '../../domain/errors.js'
import { fallbackRequest, valueAt, type EventEnvelope, type Step } from '../../domain/rules.js'
import type { Tx } from '../../store/db.js'
import type { MessageTable } from '../../store/schema.js'
import type { Account, AccountService } from '../accounts.js'
import { ApiError } from '../api-error.js'
import type { Envelope } from '../events.js'
import { attachUrn } from '../identity.js'
import { markStopped, markUrnUnreachable } from '../reachability.js'
import { parseSendRequest, type SendRequest } from '../send-request.js'
import type { Store } from '../../store/db.js'

/**
 * The store side of rule actions. `prepare` reads what the actions need before the transaction
 * (accounts, the original message, the fallback's send request, checked like POST /v1/messages);
 * `applyStep` acts inside it, with the functions the gateway itself uses for opt-outs, unreachable
 * URNs and contact URNs, so a rule's stop is the same stop as a provider's.
 *
 * @example
 * const prepared = await prepare({ store, accounts }, tenantId, rule, steps)
 * await store.write((tx) => applyStep(tx, prepared, step, envelope, now, envelopes))
 */

/** One action's outcome, as kept in the run and carried by rule.fired / rule.failed. */
export interface ActionResult {
  index: number
  type: string
  ok: boolean
  [detail: string]: unknown
}

/** An action that cannot be done: the run fails naming it (rule.failed). */
export class ActionFailed extends Error {
  constructor(
    readonly index: number,
    readonly type: string,
    readonly code: string,
    detail: string,
  ) {
    super(detail)
    this.name = 'ActionFailed'
  }
}

export interface PreparedFallback {
  index: number
  originalId: string
  account: string
  request: SendRequest
}

export interface Prepared {
  rule: { id: string; name: string }
  tenantId: string
  /** Accounts by step index (stop_contact: the event's account; mark_urn_unreachable: the message's). */
  accounts: Map<number, Account>
  /** Messages by step index (mark_urn_unreachable). */
  messages: Map<number, MessageTable>
  fallback?: PreparedFallback
}

async function step<T>(index: number, type: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work()
  } catch (err) {
    if (err instanceof ApiError) throw new ActionFailed(index, type, err.code, err.message)
    throw err
  }
}

export async function prepare(deps: { store: Store; accounts: AccountService }, tenantId: string, rule: { id: string; name: string }, steps: Step[]): Promise<Prepared> {
  const out: Prepared = { rule, tenantId, accounts: new Map(), messages: new Map() }
  const message = async (index: number, type: string, id: string) => {
    const row = await deps.store.read.selectFrom('messages').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst()
    if (!row) throw new ActionFailed(index, type, 'unknown_message', `no message ${id} in this tenant`)
    return row
  }
  for (const s of steps) {
    switch (s.type) {
      case 'stop_contact':
        out.accounts.set(s.index, await step(s.index, s.type, () => deps.accounts.get(tenantId, s.account)))
        break
      case 'mark_urn_unreachable': {
        const row = await message(s.index, s.type, s.messageId)
        const account = await deps.accounts.byId(row.account_id)
        if (!account) throw new ActionFailed(s.index, s.type, 'unknown_account', `the account of ${row.id} no longer exists`)
        out.messages.set(s.index, row)
        out.accounts.set(s.index, account)
        break
      }
      case 'fallback_send': {
        const target = await step(s.index, s.type, () => deps.accounts.get(tenantId, s.account))
        const row = await message(s.index, s.type, s.messageId)
        const urns = row.contact_id
          ? (await deps.store.read.selectFrom('contact_urns').select('urn').where('contact_id', '=', row.contact_id).orderBy('created_at').orderBy('id').execute()).map((u) => u.urn)
          : []
        // A number added by an earlier add_urn of this run counts too (it commits with the fallback).
        for (const earlier of steps) if (earlier.type === 'add_urn' && earlier.index < s.index) urns.push(earlier.urn)
        const built = fallbackRequest(
          {
            id: row.id,
            direction: row.direction,
            urn: row.urn,
            content: JSON.parse(row.content) as OutboundContent,
            metadata: row.metadata ? (JSON.parse(row.metadata) as Record<string, unknown>) : null,
            reply_ref: row.reply_ref,
          },
          { name: target.row.name, channel: target.row.channel },
          urns,
          s,
        )
        if (!built.ok) throw new ActionFailed(s.index, s.type, 'fallback_not_possible', built.reason)
        const request = await step(s.index, s.type, async () => parseSendRequest(built.request))
        out.fallback = { index: s.index, originalId: row.id, account: target.row.name, request }
        break
      }
      default:
        break
    }
  }
  return out
}

/** The contact a (possibly merged) contact id stands for now, in this tenant. */
async function liveContact(tx: Tx, tenantId: string, id: string): Promise<string | undefined> {
  let current = id
  for (let hop = 0; hop < 8; hop++) {
    const row = await tx.selectFrom('contacts').select(['id', 'merged_into']).where('tenant_id', '=', tenantId).where('id', '=', current).executeTakeFirst()
    if (!row) return undefined
    if (!row.merged_into) return row.id
    current = row.merged_into
  }
  return undefined
}

/** The error a URN is marked unreachable with: the event's own, else "not on WhatsApp" by this rule. */
function errorOf(e: EventEnvelope, ruleName: string): NormalizedError {
  const error = valueAt(e.data, 'message.error') as Partial<NormalizedError> | undefined
  if (error && typeof error.code === 'string') return { ...error, code: error.code, retryable: false }
  return { code: 'recipient_not_on_whatsapp', retryable: false, provider_message: `marked by rule ${ruleName}` }
}

/** Applies one store action inside the run's transaction (not fallback_send: the send does that). */
export async function applyStep(tx: Tx, p: Prepared, s: Step, e: EventEnvelope, now: number, envelopes: Envelope[]): Promise<ActionResult> {
  const base = { index: s.index, type: s.type, ok: true }
  switch (s.type) {
    case 'stop_contact': {
      const account = p.accounts.get(s.index) as Account
      const contactId = await liveContact(tx, p.tenantId, s.contactId)
      if (!contactId) throw new ActionFailed(s.index, s.type, 'unknown_contact', `no contact ${s.contactId} in this tenant`)
      const changed = await markStopped(tx, account, contactId, s.reason, now, envelopes, { rule: p.rule, event_id: e.id })
      return { ...base, account: account.row.name, contact_id: contactId, changed }
    }
    case 'mark_urn_unreachable': {
      const account = p.accounts.get(s.index) as Account
      const message = p.messages.get(s.index) as MessageTable
      const before = envelopes.length
      await markUrnUnreachable(tx, account, message, errorOf(e, p.rule.name), now, envelopes)
      return { ...base, urn: message.urn, changed: envelopes.length > before }
    }
    case 'add_urn': {
      const contactId = await liveContact(tx, p.tenantId, s.contactId)
      if (!contactId) throw new ActionFailed(s.index, s.type, 'unknown_contact', `no contact ${s.contactId} in this tenant`)
      const sink = { tenantId: p.tenantId, accountName: e.account ?? 'rules', envelopes }
      const attached = await attachUrn(tx, p.tenantId, contactId, s.urn, now, sink)
      return { ...base, urn: s.urn, contact_id: attached.contactId, outcome: attached.outcome }
    }
    default:
      throw new Error(`applyStep: ${s.type} is not a store action`)
  }
}
