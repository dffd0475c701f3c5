import type { FastifyInstance } from 'fastify'
import { z } from 'zod'
import { ApiError } from '../../engine/api-error.js'
import { iso } from '../../engine/clock.js'
import type { Store } from '../../store/db.js'
import { parseWith } from '../validate.js'

const WINDOW_MS = 24 * 3600 * 1000

/** Contacts: URNs, state and the customer-service window per account. */
export function contactRoutes(app: FastifyInstance, deps: { store: Store }) {
  const { store } = deps
  const view = async (tenantId: string, id: string) => {
    const contact = await store.read.selectFrom('contacts').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst()
    if (!contact) throw new ApiError('unknown_contact', `no contact ${id} in this tenant`)
    const urns = await store.read.selectFrom('contact_urns').selectAll().where('contact_id', '=', id).orderBy('created_at').execute()
    const windows = await store.read
      .selectFrom('conversations')
      .innerJoin('accounts', 'accounts.id', 'conversations.account_id')
      .select(['accounts.name', 'conversations.last_inbound_at'])
      .where('conversations.contact_id', '=', id)
      .execute()
    const now = Date.now()
    return {
      id: contact.id,
      name: contact.name,
      state: contact.state,
      urns: urns.map((u) => ({
        urn: u.urn,
        ...(u.unreachable_until && Number(u.unreachable_until) > now ? { unreachable_until: iso(Number(u.unreachable_until)), unreachable_reason: u.unreachable_reason } : {}),
      })),
      windows: windows.map((w) => {
        const expires = w.last_inbound_at ? Number(w.last_inbound_at) + WINDOW_MS : null
        return { account: w.name, last_inbound_at: w.last_inbound_at ? iso(Number(w.last_inbound_at)) : null, window_expires_at: expires ? iso(expires) : null, open: expires !== null && expires > now }
      }),
      created_at: iso(Number(contact.created_at)),
      updated_at: iso(Number(contact.updated_at)),
    }
  }

  app.get('/v1/contacts/:id', { schema: { tags: ['contacts'], summary: 'A contact with its URNs and windows' } }, async (req) => {
    const { id } = parseWith(z.object({ id: z.string().min(1).max(64) }), req.params, 'params')
    return view(req.tenant.id, id)
  })

  const listQuery = z.object({ urn: z.string().max(200).optional(), limit: z.coerce.number().int().min(1).max(500).default(50), before: z.string().max(64).optional() })
  app.get('/v1/contacts', { schema: { tags: ['contacts'], summary: 'Find a contact by URN, or list contacts', querystring: listQuery } }, async (req) => {
    const q = parseWith(listQuery, req.query, 'query')
    if (q.urn) {
      const hit = await store.read.selectFrom('contact_urns').select('contact_id').where('tenant_id', '=', req.tenant.id).where('urn', '=', q.urn).executeTakeFirst()
      return { data: hit ? [await view(req.tenant.id, hit.contact_id)] : [], next_before: null }
    }
    let query = store.read.selectFrom('contacts').select('id').where('tenant_id', '=', req.tenant.id)
    if (q.before) query = query.where('id', '<', q.before)
    const rows = await query.orderBy('id', 'desc').limit(q.limit).execute()
    return { data: await Promise.all(rows.map((r) => view(req.tenant.id, r.id))), next_before: rows.length === q.limit ? rows[rows.length - 1]?.id : null }
  })
}
