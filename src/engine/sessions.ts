import { equivalentNumbers } from '../domain/equivalents.js'
import { parseRecipient, urn } from '../domain/phone.js'
import type { Party } from '../providers/types.js'
import type { Store, Tx } from '../store/db.js'
import type { Account, AccountService } from './accounts.js'
import { ApiError } from './api-error.js'
import { iso, type Clock } from './clock.js'
import { resolveContact, urnsOf } from './contacts.js'
import {
  activeRefs,
  cancelNextReply,
  cancelSession,
  DEFAULT_NEXTREPLY_TTL_MINUTES,
  DEFAULT_SESSION_TTL_HOURS,
  hours,
  minutes,
  moveSession,
  setNextReply,
  setSession,
  type RefsKey,
} from './routing-refs.js'

/**
 * The routing state of one (account, contact) through the API: `/v1/sessions/{account}/{contact}`.
 *
 * `contact` is a contact id (`ct_…`, a merged id answers for its survivor), a URN (`tel:+…`,
 * `whatsapp:<wa_id>`, `wauser:<id>`) or a number (without `+`, the account's then the tenant's
 * default country applies). Setting a ref for a number wagate does not know yet creates its
 * contact, as a send would; reading or deleting an unknown one is `unknown_contact`.
 *
 * @example
 * await sessions.setSession(tenant, 'acme', '+14155550123', { ref: 'order-42', ttl_hours: 2 })
 * // { account: 'acme', contact_id: 'ct_…', session: { ref: 'order-42', expires_at: '…' }, nextreply: null }
 */
export interface SessionView {
  account: string
  contact_id: string
  session: { ref: string; expires_at: string } | null
  nextreply: { ref: string; expires_at: string } | null
}

interface TenantRef {
  id: string
  defaultCountry?: string | undefined
}

export function createSessionService(opts: { store: Store; accounts: AccountService; clock: Clock; defaultCountry?: string | undefined }) {
  const { store, accounts, clock } = opts

  const partyOf = (account: Account, tenant: TenantRef, value: string): Party => {
    const parsed = parseRecipient(value, account.row.default_country ?? tenant.defaultCountry ?? opts.defaultCountry)
    if (!parsed.ok) throw new ApiError('invalid_recipient', `contact: give a contact id (ct_…), a URN or a number; ${parsed.reason}`)
    if (parsed.kind === 'phone') return { phone: parsed.e164 }
    if (parsed.kind === 'wa_id') return { waId: parsed.waId }
    return { userId: parsed.userId }
  }

  /** The live contact named by `value`, without creating one. */
  const findContact = async (db: Tx, account: Account, tenant: TenantRef, value: string): Promise<string> => {
    if (value.startsWith('ct_')) {
      const row = await db.selectFrom('contacts').select(['id', 'merged_into']).where('tenant_id', '=', tenant.id).where('id', '=', value).executeTakeFirst()
      if (!row) throw new ApiError('unknown_contact', `no contact ${value} in this tenant`)
      return row.merged_into ?? row.id
    }
    const party = partyOf(account, tenant, value)
    const own = urnsOf(party)
    const numbers = [party.phone, party.waId ? `+${party.waId}` : undefined].filter((n): n is string => n !== undefined)
    const similar = numbers.flatMap((n) => equivalentNumbers(n)).flatMap((n) => [urn.tel(n), urn.whatsapp(n.slice(1))])
    const candidates = [...new Set([...own, ...similar])]
    const hits = await db.selectFrom('contact_urns').select(['contact_id', 'urn']).where('tenant_id', '=', tenant.id).where('urn', 'in', candidates).execute()
    // The exact URN first, then an equivalent spelling of the same number.
    const hit = candidates.map((c) => hits.find((h) => h.urn === c)).find((h) => h !== undefined)
    if (!hit) throw new ApiError('unknown_contact', `no contact with ${own.join(' or ')} in this tenant`)
    return hit.contact_id
  }

  const view = async (db: Tx, account: Account, contactId: string, now: number): Promise<SessionView> => {
    const refs = await activeRefs(db, { accountId: account.row.id, contactId }, now)
    return {
      account: account.row.name,
      contact_id: contactId,
      session: refs.session ? { ref: refs.session.ref, expires_at: iso(refs.session.expiresAt) } : null,
      nextreply: refs.nextreply ? { ref: refs.nextreply.ref, expires_at: iso(refs.nextreply.expiresAt) } : null,
    }
  }

  /** Runs `change` on (account, contact) in one write and answers the resulting view. */
  const change = async (tenant: TenantRef, accountName: string, contact: string, create: boolean, fn: (tx: Tx, key: RefsKey, now: number) => Promise<void>): Promise<SessionView> => {
    const account = await accounts.get(tenant.id, accountName)
    const now = clock.now()
    return store.write(async (tx) => {
      let contactId: string
      if (create && !contact.startsWith('ct_')) {
        const resolved = await resolveContact(tx, tenant.id, partyOf(account, tenant, contact), now)
        if (!resolved) throw new ApiError('unknown_contact', `no contact for ${contact}`)
        contactId = resolved.contactId
      } else contactId = await findContact(tx, account, tenant, contact)
      await fn(tx, { tenantId: tenant.id, accountId: account.row.id, contactId }, now)
      return view(tx, account, contactId, now)
    })
  }

  return {
    async get(tenant: TenantRef, accountName: string, contact: string): Promise<SessionView> {
      const account = await accounts.get(tenant.id, accountName)
      const contactId = await findContact(store.read, account, tenant, contact)
      return view(store.read, account, contactId, clock.now())
    },
    setSession: (tenant: TenantRef, accountName: string, contact: string, body: { ref: string; ttl_hours?: number | undefined }) =>
      change(tenant, accountName, contact, true, (tx, key, now) => setSession(tx, key, body.ref, hours(body.ttl_hours ?? DEFAULT_SESSION_TTL_HOURS), now)),
    moveSession: (tenant: TenantRef, accountName: string, contact: string, body: { ref: string; ttl_hours?: number | undefined }) =>
      change(tenant, accountName, contact, false, async (tx, key, now) => {
        const moved = await moveSession(tx, key, body.ref, now, body.ttl_hours !== undefined ? hours(body.ttl_hours) : undefined)
        if (!moved) throw new ApiError('no_active_session', `no active session for ${contact} on ${accountName}; start one with PUT`)
      }),
    cancelSession: (tenant: TenantRef, accountName: string, contact: string) => change(tenant, accountName, contact, false, (tx, key, now) => cancelSession(tx, key, now)),
    setNextReply: (tenant: TenantRef, accountName: string, contact: string, body: { ref: string; ttl_minutes?: number | undefined }) =>
      change(tenant, accountName, contact, true, (tx, key, now) => setNextReply(tx, key, body.ref, minutes(body.ttl_minutes ?? DEFAULT_NEXTREPLY_TTL_MINUTES), now)),
    cancelNextReply: (tenant: TenantRef, accountName: string, contact: string) => change(tenant, accountName, contact, false, (tx, key, now) => cancelNextReply(tx, key, now)),
  }
}

export type SessionService = ReturnType<typeof createSessionService>
