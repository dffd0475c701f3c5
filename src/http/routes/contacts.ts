import type { FastifyInstance } from 'fastify'
import { z } from 'zod'
import { equivalentNumbers } from '../../domain/equivalents.js'
import { parseRecipient, urn } from '../../domain/phone.js'
import { windowOf } from '../../domain/window.js'
import { ApiError } from '../../engine/api-error.js'
import { iso, systemClock, type Clock } from '../../engine/clock.js'
import type { Store } from '../../store/db.js'
import { parseWith } from '../validate.js'

const CONTACT_STATES = ['active', 'stopped', 'blocked'] as const

/**
 * Contacts (DESIGN §2, §8, §11): URNs with their reachability, the contact's state, and per account
 * the customer-service window and whether the contact opted out of it.
 *
 * `state` is `blocked` when the business blocked the contact, else `stopped` when the contact opted
 * out of every account it has talked with, else `active`; per-account opt-outs are in `accounts[]`.
 * A contact merged into another (a provider revealed they are one person) answers with the survivor.
 *
 * @example
 * GET /v1/contacts?urn=tel:%2B5535987654321 → { data: [{ id: 'ct_…', urns: [{ urn: 'tel:+5535987654321' }, …], … }] }
 * POST /v1/contacts/ct_…/block → the contact, state 'blocked'
 */
export function contactRoutes(app: FastifyInstance, deps: { store: Store; clock?: Clock }) {
  const { store } = deps
  const clock = deps.clock ?? systemClock

  const live = async (tenantId: string, id: string) => {
    const contact = await store.read.selectFrom('contacts').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst()
    if (!contact) throw new ApiError('unknown_contact', `no contact ${id} in this tenant`)
    if (!contact.merged_into) return contact
    const survivor = await store.read.selectFrom('contacts').selectAll().where('tenant_id', '=', tenantId).where('id', '=', contact.merged_into).executeTakeFirst()
    if (!survivor) throw new ApiError('unknown_contact', `contact ${id} was merged into ${contact.merged_into}, which no longer exists`)
    return survivor
  }

  const view = async (tenantId: string, id: string) => {
    const contact = await live(tenantId, id)
    const now = clock.now()
    const urns = await store.read.selectFrom('contact_urns').selectAll().where('contact_id', '=', contact.id).orderBy('created_at').orderBy('id').execute()
    const accounts = await store.read
      .selectFrom('conversations')
      .innerJoin('accounts', 'accounts.id', 'conversations.account_id')
      .select(['accounts.name', 'conversations.account_id', 'conversations.last_inbound_at', 'conversations.stopped_at', 'conversations.stopped_reason'])
      .where('conversations.contact_id', '=', contact.id)
      .orderBy('accounts.name')
      .execute()
    // window (issue 5): messages held behind an interaction request, per account
    const stashed = await store.read
      .selectFrom('stashed_messages')
      .innerJoin('messages', 'messages.id', 'stashed_messages.message_id')
      .select(['messages.account_id', (eb) => eb.fn.countAll<number>().as('n')])
      .where('messages.contact_id', '=', contact.id)
      .groupBy('messages.account_id')
      .execute()
    const stashedBy = new Map(stashed.map((r) => [r.account_id, Number(r.n)]))
    const perAccount = accounts.map((a) => {
      const window = windowOf(a.last_inbound_at != null ? Number(a.last_inbound_at) : null, now)
      return {
        account: a.name,
        last_inbound_at: a.last_inbound_at != null ? iso(Number(a.last_inbound_at)) : null,
        window_expires_at: window.expiresAt !== null ? iso(window.expiresAt) : null,
        window_open: window.open,
        stashed: stashedBy.get(a.account_id) ?? 0,
        stopped: a.stopped_at != null,
        stopped_at: a.stopped_at != null ? iso(Number(a.stopped_at)) : null,
        stopped_reason: a.stopped_reason ?? null,
      }
    })
    // A contact that never wrote has no conversation row, but may have messages stashed for it.
    const listed = new Set(accounts.map((a) => a.account_id))
    const onlyStashed = [...stashedBy.keys()].filter((id) => !listed.has(id))
    if (onlyStashed.length > 0) {
      const names = await store.read.selectFrom('accounts').select(['id', 'name']).where('id', 'in', onlyStashed).execute()
      for (const a of names) {
        perAccount.push({ account: a.name, last_inbound_at: null, window_expires_at: null, window_open: false, stashed: stashedBy.get(a.id) ?? 0, stopped: false, stopped_at: null, stopped_reason: null })
      }
      perAccount.sort((x, y) => (x.account < y.account ? -1 : x.account > y.account ? 1 : 0))
    }
    const stoppedEverywhere = perAccount.length > 0 && perAccount.every((a) => a.stopped)
    return {
      id: contact.id,
      name: contact.name,
      state: contact.state === 'blocked' ? 'blocked' : stoppedEverywhere ? 'stopped' : 'active',
      blocked: contact.state === 'blocked',
      urns: urns.map((u) => {
        const until = u.unreachable_until != null ? Number(u.unreachable_until) : null
        return {
          urn: u.urn,
          reachable: until === null || until <= now,
          ...(until !== null ? { unreachable_until: iso(until), unreachable_reason: u.unreachable_reason } : {}),
        }
      }),
      accounts: perAccount,
      // The first version's name for the same list, kept for callers that read it.
      windows: perAccount.map((a) => ({ account: a.account, last_inbound_at: a.last_inbound_at, window_expires_at: a.window_expires_at, open: a.window_open })),
      created_at: iso(Number(contact.created_at)),
      updated_at: iso(Number(contact.updated_at)),
    }
  }

  const idParams = z.object({ id: z.string().min(1).max(64) })

  app.get('/v1/contacts/:id', { schema: { tags: ['contacts'], summary: 'A contact with its URNs, state and per-account window and opt-out', params: idParams } }, async (req) => {
    const { id } = parseWith(idParams, req.params, 'params')
    return view(req.tenant.id, id)
  })

  const setBlocked = (blocked: boolean) => async (req: { tenant: { id: string }; params: unknown }) => {
    const { id } = parseWith(idParams, req.params, 'params')
    const contact = await live(req.tenant.id, id)
    await store.write((tx) =>
      tx
        .updateTable('contacts')
        .set({ state: blocked ? 'blocked' : 'active', updated_at: clock.now() })
        .where('id', '=', contact.id)
        .where('state', '!=', 'merged')
        .execute(),
    )
    return view(req.tenant.id, contact.id)
  }
  app.post('/v1/contacts/:id/block', { schema: { tags: ['contacts'], summary: 'Block a contact: every send to it is refused with contact_blocked', params: idParams } }, setBlocked(true))
  app.post('/v1/contacts/:id/unblock', { schema: { tags: ['contacts'], summary: 'Unblock a contact (an opt-out by the contact stays)', params: idParams } }, setBlocked(false))

  const listQuery = z.object({
    urn: z.string().min(1).max(200).optional(),
    state: z.enum(CONTACT_STATES).optional(),
    limit: z.coerce.number().int().min(1).max(500).default(50),
    before: z.string().max(64).optional(),
  })
  app.get('/v1/contacts', { schema: { tags: ['contacts'], summary: 'Find a contact by URN (or number), or list contacts newest first', querystring: listQuery } }, async (req) => {
    const q = parseWith(listQuery, req.query, 'query')
    if (q.urn) {
      const candidates = urnCandidates(q.urn, req.tenant.defaultCountry)
      const hits = await store.read.selectFrom('contact_urns').select(['contact_id', 'urn']).where('tenant_id', '=', req.tenant.id).where('urn', 'in', candidates).execute()
      // The exact URN first, then an equivalent spelling of the same number.
      const hit = candidates.map((c) => hits.find((h) => h.urn === c)).find((h) => h !== undefined)
      return { data: hit ? [await view(req.tenant.id, hit.contact_id)] : [], next_before: null }
    }
    let query = store.read.selectFrom('contacts').select('id').where('tenant_id', '=', req.tenant.id).where('state', '!=', 'merged')
    if (q.state === 'blocked') query = query.where('state', '=', 'blocked')
    else if (q.state) query = query.where('state', '!=', 'blocked')
    if (q.before) query = query.where('id', '<', q.before)
    // `stopped` is derived per account, so that filter is applied to a page read in full.
    const rows = await query.orderBy('id', 'desc').limit(q.limit).execute()
    const views = await Promise.all(rows.map((r) => view(req.tenant.id, r.id)))
    return {
      data: q.state ? views.filter((v) => v.state === q.state) : views,
      next_before: rows.length === q.limit ? (rows[rows.length - 1]?.id ?? null) : null,
    }
  })
}

/**
 * The URNs a `?urn=` value may be stored as: the value itself, and for a number its `tel:` and
 * `whatsapp:` spellings and their equivalents. A `+` sent unencoded in a query string arrives as
 * a space; it is put back.
 */
function urnCandidates(raw: string, defaultCountry: string | undefined): string[] {
  const value = raw.replace(/^(tel:|whatsapp:)? (?=\d)/, '$1+').trim()
  const out = [value]
  const parsed = parseRecipient(value, defaultCountry)
  if (!parsed.ok) return out
  if (parsed.kind === 'user_id') return [...out, urn.wauser(parsed.userId)]
  const number = parsed.kind === 'phone' ? parsed.e164 : `+${parsed.waId}`
  const first = parsed.kind === 'phone' ? [urn.tel(number), urn.whatsapp(number.slice(1))] : [urn.whatsapp(parsed.waId), urn.tel(number)]
  const rest = equivalentNumbers(number).slice(1).flatMap((n) => [urn.tel(n), urn.whatsapp(n.slice(1))])
  return [...new Set([...out, ...first, ...rest])]
}
