import { checkContent, isPrivateUrl } from '../domain/capability-check.js'
import type { OutboundContent } from '../domain/content.js'
import { newId } from '../domain/ids.js'
import { fillContent } from '../domain/variables.js'
import { windowOf } from '../domain/window.js'
import { parseRecipient } from '../domain/phone.js'
import { topic } from '../domain/topics.js'
import type { Party } from '../providers/types.js'
import type { Store, Tx } from '../store/db.js'
import type { MessageTable } from '../store/schema.js'
import { insertAcceptedHistory, insertMessage, insertOutboxJob, messageById } from './message-statements.js'
import type { Account, AccountService } from './accounts.js'
import { ApiError } from './api-error.js'
import { iso, type Clock } from './clock.js'
import { resolveContact } from './contacts.js'
import { assertSendable } from './reachability.js'
import { applyOutboundRefs } from './routing-refs.js'
import { appendEvent, type Envelope } from './events.js'
import { contentOf, type SendRequest } from './send-request.js'
import { stashAccepted, windowGate } from './stash.js' // window (issue 5)
import { checkTemplate } from './templates.js' // templates (issue 5)

/**
 * Accepting outbound messages: validation against the account and its provider, then one
 * transaction holding the message row(s), their history, their outbox jobs and the accepted event.
 */
/** What `POST /v1/messages` answers. */
export interface AcceptedBody {
  id: string
  status: string
  parts?: string[]
}

export interface Accepted extends AcceptedBody {
  envelopes: Envelope[]
}

export interface MessageServiceOptions {
  store: Store
  accounts: AccountService
  clock: Clock
  defaultCountry?: string
  /** Called after commit so the worker picks the jobs up at once. */
  onQueued?: () => void
  onEvents?: (events: Envelope[]) => void
}

export function createMessageService(opts: MessageServiceOptions) {
  const { store, accounts, clock } = opts

  const pickAccount = async (tenantId: string, name: string | undefined): Promise<Account> => {
    if (name) return accounts.resolve(tenantId, name) // cached: accounts change rarely (ACCOUNT_CACHE_TTL_MS)
    const all = (await accounts.list(tenantId)).filter((a) => a.row.channel === 'whatsapp')
    if (all.length === 1 && all[0]) return all[0]
    throw new ApiError('account_required', all.length === 0 ? 'this tenant has no WhatsApp account yet; create one with POST /v1/accounts' : `this tenant has ${all.length} accounts; say which one sends with "account"`)
  }

  const recipientOf = (account: Account, tenantCountry: string | undefined, to: string): Party => {
    const parsed = parseRecipient(to, account.row.default_country ?? tenantCountry ?? opts.defaultCountry)
    if (!parsed.ok) throw new ApiError('invalid_recipient', `to: ${parsed.reason}`)
    if (parsed.kind === 'phone') return { phone: parsed.e164 }
    if (parsed.kind === 'wa_id') return { waId: parsed.waId }
    if (!account.adapter.capabilities(account.ctx.channel).userIdRecipients) {
      throw new ApiError('invalid_recipient', `to: ${account.row.provider} cannot send to a business-scoped user id`)
    }
    return { userId: parsed.userId }
  }

  const checkMediaUrls = (account: Account, content: OutboundContent) => {
    if (account.settings.allow_private_media) return
    const urls: string[] = []
    if ('media' in content && content.media.url) urls.push(content.media.url)
    if (content.type === 'template') {
      for (const c of content.template.components ?? []) for (const p of c.parameters) if ('url' in p) urls.push(p.url)
    }
    const bad = urls.find(isPrivateUrl)
    if (bad) throw new ApiError('media_url_refused', `${bad} points at a private or loopback address; the provider could not fetch it (set allow_private_media on the account to allow it)`)
  }

  /**
   * A wagate id given as reply_to or reaction target must name a message of the same account: the
   * worker waits for its provider id, and an id that never gets one would hold this message forever.
   */
  const checkTargets = async (tenantId: string, account: Account, req: SendRequest) => {
    const refs: Array<[string, string]> = []
    if (req.reply_to?.startsWith('msg_')) refs.push(['reply_to', req.reply_to])
    if (req.type === 'reaction' && req.reaction.message_id.startsWith('msg_')) refs.push(['reaction.message_id', req.reaction.message_id])
    for (const [field, id] of refs) {
      const row = await store.read.selectFrom('messages').select(['account_id', 'status']).where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst()
      if (!row) throw new ApiError('unknown_target_message', `${field}: no message ${id} in this tenant`)
      if (row.account_id !== account.row.id) throw new ApiError('unknown_target_message', `${field}: ${id} belongs to another account; a reply or reaction must go from the number the conversation is with`)
      if (row.status === 'failed') throw new ApiError('unknown_target_message', `${field}: ${id} failed and was never delivered, so it cannot be replied or reacted to`)
    }
  }

  /** window (issue 5): when the window of each message's (account, contact) closes; absent when the contact never wrote. */
  const windowsOf = async (rows: readonly MessageTable[]): Promise<Map<string, number>> => {
    const contacts = [...new Set(rows.map((r) => r.contact_id).filter((c): c is string => c !== null))]
    const out = new Map<string, number>()
    if (contacts.length === 0) return out
    const convs = await store.read.selectFrom('conversations').select(['account_id', 'contact_id', 'last_inbound_at']).where('contact_id', 'in', contacts).execute()
    for (const c of convs) {
      const w = windowOf(c.last_inbound_at == null ? null : Number(c.last_inbound_at), clock.now())
      if (w.expiresAt !== null) out.set(`${c.account_id}\u0000${c.contact_id}`, w.expiresAt)
    }
    return out
  }

  return {
    /**
     * `inTransaction` runs inside the accepting transaction with the response body, so work that must
     * commit with the message (the Idempotency-Key's stored response) does; if it throws, nothing is written.
     */
    async accept(tenantId: string, req: SendRequest, tenantCountry?: string, inTransaction?: (tx: Tx, response: AcceptedBody) => Promise<void>): Promise<Accepted> {
      const account = await pickAccount(tenantId, req.account)
      const party = recipientOf(account, tenantCountry, req.to)
      const content = withVariables(contentOf(req), req.variables)
      checkMediaUrls(account, content)
      await checkTargets(tenantId, account, req)
      // templates (issue 5): unknown name/language or wrong parameter count → template_invalid, nothing queued
      if (content.type === 'template') await checkTemplate(store.read, account, content.template)
      const check = checkContent(content, account.adapter.capabilities(account.ctx.channel), { splitLongText: account.settings.split_long_text })
      if (!check.ok) throw new ApiError(check.code, check.detail)
      const now = clock.now()
      const wireUrn = party.phone ? `tel:${party.phone}` : party.waId ? `whatsapp:${party.waId}` : `wauser:${party.userId}`
      const ids = check.parts.map(() => newId('msg', now))
      const body: AcceptedBody = { id: ids[0] as string, status: 'queued', ...(ids.length > 1 ? { parts: ids } : {}) }
      const envelopes = await store.write(async (tx) => {
        const contact = await resolveContact(tx, tenantId, party, now)
        // A blocked contact, or one stopped for this account, is refused here: nothing is queued.
        await assertSendable(tx, tenantId, account.row.id, contact?.contactId)
        // routing (issue 5): `session` / `nextreply` take effect with the message, in this transaction.
        if (contact && (req.session || req.nextreply)) await applyOutboundRefs(tx, { tenantId, accountId: account.row.id, contactId: contact.contactId }, req, now)
        // window (issue 5): a closed window follows the account's policy (reject throws outside_window)
        const hold = await windowGate(tx, account, contact?.contactId, content.type, now)
        body.status = hold === 'stash' ? 'stashed' : 'queued'
        const out: Envelope[] = []
        for (const [i, part] of check.parts.entries()) {
          const id = ids[i] as string
          const row: MessageTable = {
            id,
            tenant_id: tenantId,
            account_id: account.row.id,
            contact_id: contact?.contactId ?? null,
            direction: 'out',
            type: part.type,
            content: JSON.stringify(part),
            urn: wireUrn,
            status: body.status,
            provider_message_id: null,
            error: null,
            attempts: 0,
            duplicate_risk: 0,
            reply_to: req.reply_to ?? null,
            reply_ref: req.reply_ref ?? null,
            topic: null,
            metadata: req.metadata || check.parts.length > 1 ? JSON.stringify({ ...req.metadata, ...(check.parts.length > 1 ? { part: i + 1, parts: ids } : {}) }) : null,
            created_at: now,
            updated_at: now,
          }
          await insertMessage(tx, row)
          await insertAcceptedHistory(tx, {
            id,
            at: now,
            acceptedBy: 'api',
            ...(hold === 'stash' ? { nextStatus: 'stashed', nextProviderStatus: 'window_closed' } : { nextStatus: 'queued', nextProviderStatus: 'outbox' }),
          })
          // Parts share one run_at: the worker keeps per-recipient order by id, which sorts by creation.
          // A stashed message gets its job when it is released (stash.ts).
          if (hold === 'send') await insertOutboxJob(tx, { messageId: id, accountId: account.row.id, runAt: now, recipient: row.urn })
          out.push(
            await appendEvent(
              tx,
              {
                tenantId,
                type: 'message.status',
                topic: topic('message', account.row.name, 'accepted'),
                account: account.row.name,
                data: { message: messageSummary(row, account.row.name, 'accepted') },
              },
              now,
            ),
          )
          if (hold === 'stash') {
            const stashed = { tenantId, type: 'message.status', topic: topic('message', account.row.name, 'stashed'), account: account.row.name, data: { message: messageSummary(row, account.row.name, 'stashed') } }
            out.push(await appendEvent(tx, stashed, now))
          }
        }
        if (hold === 'stash' && contact) out.push(...(await stashAccepted(tx, account, { tenantId, contactId: contact.contactId, urn: wireUrn, ids, now })))
        await inTransaction?.(tx, body)
        return out
      })
      opts.onQueued?.()
      opts.onEvents?.(envelopes)
      return { ...body, envelopes }
    },

    async get(tenantId: string, id: string) {
      const row = await store.read.selectFrom('messages').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst()
      if (!row) throw new ApiError('unknown_message', `no message ${id} in this tenant`)
      const history = await store.read.selectFrom('message_history').selectAll().where('message_id', '=', id).orderBy('id').execute()
      const account = await accounts.byId(row.account_id)
      const windows = await windowsOf([row])
      // rules (issue 6): the messages a rule's fallback_send sent in this one's place.
      const fallbacks = await store.read.selectFrom('messages').select('id').where('tenant_id', '=', tenantId).where('fallback_of', '=', id).orderBy('id').execute()
      return {
        ...messageView(row, account?.row.name ?? row.account_id, windows.get(`${row.account_id}\u0000${row.contact_id}`) ?? null),
        fallbacks: fallbacks.map((f) => f.id),
        history: history.map((h) => ({
          status: h.status,
          provider_status: h.provider_status,
          at: iso(Number(h.at)),
          ...(h.error ? { error: JSON.parse(h.error) as unknown } : {}),
        })),
      }
    },

    async list(tenantId: string, q: { account?: string; contact?: string; direction?: string; status?: string; limit: number; before?: string }) {
      let query = store.read.selectFrom('messages').selectAll().where('tenant_id', '=', tenantId)
      if (q.account) {
        const account = await accounts.get(tenantId, q.account)
        query = query.where('account_id', '=', account.row.id)
      }
      if (q.contact) query = query.where('contact_id', '=', q.contact)
      if (q.direction) query = query.where('direction', '=', q.direction)
      if (q.status) query = query.where('status', '=', q.status)
      if (q.before) query = query.where('id', '<', q.before)
      const rows = await query.orderBy('id', 'desc').limit(q.limit).execute()
      const names = new Map<string, string>()
      for (const r of rows) if (!names.has(r.account_id)) names.set(r.account_id, (await accounts.byId(r.account_id))?.row.name ?? r.account_id)
      const windows = await windowsOf(rows)
      return {
        data: rows.map((r) => messageView(r, names.get(r.account_id) ?? r.account_id, windows.get(`${r.account_id}\u0000${r.contact_id}`) ?? null)),
        next_before: rows.length === q.limit ? rows[rows.length - 1]?.id : null,
      }
    },
  }
}

export type MessageService = ReturnType<typeof createMessageService>

/** `{{name}}` variables filled from the request (issue 5); a name the request lacks is a 422. */
function withVariables(content: OutboundContent, variables: Record<string, string> | undefined): OutboundContent {
  if (!variables) return content
  const filled = fillContent(content, variables)
  if (!filled.ok) throw new ApiError('missing_variable', `the text uses ${filled.missing.map((m) => `{{${m}}}`).join(', ')} but "variables" does not give ${filled.missing.length === 1 ? 'it' : 'them'}`, { missing: filled.missing })
  return filled.value
}

/** Who and what a message is: the fields the API view and the event summary share. */
function messageHead(row: MessageTable, accountName: string) {
  return {
    id: row.id,
    account: accountName,
    direction: row.direction,
    type: row.type,
    [row.direction === 'out' ? 'to' : 'from']: row.urn,
    contact_id: row.contact_id,
  }
}

/**
 * The API view of a message row. `windowExpiresAt` (issue 5) is when the 24-hour window of the
 * message's (account, contact) closes, as of now: null when the contact never wrote; omitted when
 * the caller did not look it up (events).
 */
export function messageView(row: MessageTable, accountName: string, windowExpiresAt?: number | null) {
  const content = JSON.parse(row.content) as Record<string, unknown>
  const { type: _type, ...body } = content
  return {
    ...messageHead(row, accountName),
    status: row.status,
    ...body,
    provider_message_id: row.provider_message_id,
    error: row.error ? (JSON.parse(row.error) as unknown) : null,
    attempts: row.attempts,
    duplicate_risk: row.duplicate_risk,
    reply_to: row.reply_to,
    reply_ref: row.reply_ref,
    topic: row.topic,
    metadata: row.metadata ? (JSON.parse(row.metadata) as unknown) : null,
    /** rules (issue 6): the message this one stands in for (sent by a fallback_send). */
    fallback_of: row.fallback_of ?? null,
    ...(windowExpiresAt !== undefined ? { window_expires_at: windowExpiresAt === null ? null : iso(windowExpiresAt) } : {}),
    created_at: iso(Number(row.created_at)),
    updated_at: iso(Number(row.updated_at)),
  }
}

/** The message as carried in events: enough to act on without a lookup. */
export function messageSummary(row: MessageTable, accountName: string, status: string, extra: Record<string, unknown> = {}) {
  return {
    ...messageHead(row, accountName),
    status,
    provider_message_id: row.provider_message_id,
    reply_ref: row.reply_ref,
    metadata: row.metadata ? (JSON.parse(row.metadata) as unknown) : null,
    ...extra,
  }
}

/** The message row as it is now in this transaction (compiled once: the worker reads it for every send). */
export async function loadMessage(tx: Tx, id: string) {
  return (await messageById(tx, { id })).rows[0]
}
