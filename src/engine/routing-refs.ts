import { z } from 'zod'
import { route, type RoutingDecision } from '../domain/routing.js'
import type { Tx } from '../store/db.js'

/**
 * Session and next-reply refs of one (account, contact) (DESIGN §9), in table `routing_refs`.
 *
 * - A **session ref** routes the contact's messages to `incoming.<account>.session.<ref>` until it
 *   expires (TTL in hours, default 24: the length of the customer-service window). It is set,
 *   replaced, moved to another ref (keeping its expiry unless a TTL is given) or cancelled.
 * - A **next-reply ref** routes the contact's next message to `incoming.<account>.nextreply.<ref>`
 *   (TTL in minutes, default 30) and is consumed by that one message; the session is untouched.
 *   A quoted reply or a command outranks it and does not consume it.
 *
 * All functions take the transaction they run in; the caller commits. They are re-runnable (no side
 * effect outside `tx`), as a retried PostgreSQL write requires.
 *
 * @example
 * await setSession(tx, { tenantId, accountId, contactId }, 'order-42', hours(24), now)
 * const { decision } = await routeInbound(tx, { accountId, contactId }, { account: 'acme', from: '+1…', text: 'hi', commands: false }, now)
 * // { kind: 'session', topic: 'incoming.acme.session.order-42', ref: 'order-42' }
 */
export const DEFAULT_SESSION_TTL_HOURS = 24
export const MAX_SESSION_TTL_HOURS = 24 * 30
export const DEFAULT_NEXTREPLY_TTL_MINUTES = 30
export const MAX_NEXTREPLY_TTL_MINUTES = 7 * 24 * 60
export const MAX_REF_LENGTH = 200

export const hours = (h: number) => Math.round(h * 3_600_000)
export const minutes = (m: number) => Math.round(m * 60_000)

/** A ref chosen by the application: 1–200 characters, no control characters (it is escaped in topics). */
export const RefSchema = z.string().min(1).max(MAX_REF_LENGTH).regex(/^[^\u0000-\u001f\u007f]+$/, 'no control characters')
export const TtlHoursSchema = z.number().positive().max(MAX_SESSION_TTL_HOURS)
export const TtlMinutesSchema = z.number().positive().max(MAX_NEXTREPLY_TTL_MINUTES)

/** `session` of `POST /v1/messages`: set/replace, move, or cancel. */
export const SessionChangeSchema = z.union(
  [
    z.object({ ref: RefSchema, ttl_hours: TtlHoursSchema.optional() }).strict(),
    z.object({ move_to: RefSchema, ttl_hours: TtlHoursSchema.optional() }).strict(),
    z.object({ cancel: z.literal(true) }).strict(),
  ],
  { error: `give {ref, ttl_hours?}, {move_to, ttl_hours?} or {cancel: true}; a ref is 1-${MAX_REF_LENGTH} characters, ttl_hours a number in (0, ${MAX_SESSION_TTL_HOURS}]` },
)
export type SessionChange = z.infer<typeof SessionChangeSchema>

/** `nextreply` of `POST /v1/messages`: set/replace, or cancel. */
export const NextReplyChangeSchema = z.union(
  [z.object({ ref: RefSchema, ttl_minutes: TtlMinutesSchema.optional() }).strict(), z.object({ cancel: z.literal(true) }).strict()],
  { error: `give {ref, ttl_minutes?} or {cancel: true}; a ref is 1-${MAX_REF_LENGTH} characters, ttl_minutes a number in (0, ${MAX_NEXTREPLY_TTL_MINUTES}]` },
)
export type NextReplyChange = z.infer<typeof NextReplyChangeSchema>

export interface RefsKey {
  tenantId: string
  accountId: string
  contactId: string
}

export interface ActiveRef {
  ref: string
  expiresAt: number
}

export interface ActiveRefs {
  session?: ActiveRef
  nextreply?: ActiveRef
}

const active = (ref: string | null, expires: number | string | null, now: number): ActiveRef | undefined =>
  ref !== null && expires !== null && Number(expires) > now ? { ref, expiresAt: Number(expires) } : undefined

/** The refs of (account, contact) still active at `now`. */
export async function activeRefs(db: Tx, key: Omit<RefsKey, 'tenantId'>, now: number): Promise<ActiveRefs> {
  const row = await db.selectFrom('routing_refs').selectAll().where('account_id', '=', key.accountId).where('contact_id', '=', key.contactId).executeTakeFirst()
  if (!row) return {}
  const session = active(row.session_ref, row.session_expires_at, now)
  const nextreply = active(row.nextreply_ref, row.nextreply_expires_at, now)
  return { ...(session ? { session } : {}), ...(nextreply ? { nextreply } : {}) }
}

type RefColumns = 'session_ref' | 'session_expires_at' | 'nextreply_ref' | 'nextreply_expires_at'

/** Writes some ref columns of the row, creating it (other refs empty) when missing. */
async function upsert(tx: Tx, key: RefsKey, set: Partial<Record<RefColumns, string | number | null>>, now: number): Promise<void> {
  const values = { session_ref: null, session_expires_at: null, nextreply_ref: null, nextreply_expires_at: null, ...set } as {
    session_ref: string | null
    session_expires_at: number | null
    nextreply_ref: string | null
    nextreply_expires_at: number | null
  }
  const changes = { ...(set as Partial<typeof values>), updated_at: now }
  await tx
    .insertInto('routing_refs')
    .values({ account_id: key.accountId, contact_id: key.contactId, tenant_id: key.tenantId, ...values, updated_at: now })
    .onConflict((oc) => oc.columns(['account_id', 'contact_id']).doUpdateSet(changes))
    .execute()
}

/** Sets (or replaces) the session ref; it expires `ttlMs` from now. */
export async function setSession(tx: Tx, key: RefsKey, ref: string, ttlMs: number, now: number): Promise<void> {
  await upsert(tx, key, { session_ref: ref, session_expires_at: now + ttlMs }, now)
}

/**
 * Moves the active session to another ref, keeping its expiry unless `ttlMs` is given. Returns
 * false (and changes nothing) when no session is active.
 */
export async function moveSession(tx: Tx, key: RefsKey, ref: string, now: number, ttlMs?: number): Promise<boolean> {
  const res = await tx
    .updateTable('routing_refs')
    .set({ session_ref: ref, ...(ttlMs !== undefined ? { session_expires_at: now + ttlMs } : {}), updated_at: now })
    .where('account_id', '=', key.accountId)
    .where('contact_id', '=', key.contactId)
    .where('session_ref', 'is not', null)
    .where('session_expires_at', '>', now)
    .executeTakeFirst()
  return Number(res.numUpdatedRows) > 0
}

/** Ends the session (a no-op when there is none). */
export async function cancelSession(tx: Tx, key: RefsKey, now: number): Promise<void> {
  await clear(tx, key, { session_ref: null, session_expires_at: null }, now)
}

/** Sets (or replaces) the next-reply ref; it expires `ttlMs` from now unless a message consumes it first. */
export async function setNextReply(tx: Tx, key: RefsKey, ref: string, ttlMs: number, now: number): Promise<void> {
  await upsert(tx, key, { nextreply_ref: ref, nextreply_expires_at: now + ttlMs }, now)
}

export async function cancelNextReply(tx: Tx, key: RefsKey, now: number): Promise<void> {
  await clear(tx, key, { nextreply_ref: null, nextreply_expires_at: null }, now)
}

async function clear(tx: Tx, key: RefsKey, set: Partial<Record<RefColumns, null>>, now: number): Promise<void> {
  await tx.updateTable('routing_refs').set({ ...set, updated_at: now }).where('account_id', '=', key.accountId).where('contact_id', '=', key.contactId).execute()
}

/**
 * Consumes the next-reply ref `ref` if it is still the active one. The condition is in the UPDATE,
 * so of two concurrent messages only one consumes it (the other sees 0 rows and routes without it).
 */
export async function consumeNextReply(tx: Tx, key: Omit<RefsKey, 'tenantId'>, ref: string, now: number): Promise<boolean> {
  const res = await tx
    .updateTable('routing_refs')
    .set({ nextreply_ref: null, nextreply_expires_at: null, updated_at: now })
    .where('account_id', '=', key.accountId)
    .where('contact_id', '=', key.contactId)
    .where('nextreply_ref', '=', ref)
    .where('nextreply_expires_at', '>', now)
    .executeTakeFirst()
  return Number(res.numUpdatedRows) > 0
}

/**
 * Applies the `session` and `nextreply` fields of an accepted outbound message. A `move_to` without
 * an active session starts one with the given or default TTL: a send never fails over routing state.
 */
export async function applyOutboundRefs(tx: Tx, key: RefsKey, change: { session?: SessionChange | undefined; nextreply?: NextReplyChange | undefined }, now: number): Promise<void> {
  const s = change.session
  if (s && 'cancel' in s) await cancelSession(tx, key, now)
  else if (s && 'move_to' in s) {
    const ttl = s.ttl_hours !== undefined ? hours(s.ttl_hours) : undefined
    if (!(await moveSession(tx, key, s.move_to, now, ttl))) await setSession(tx, key, s.move_to, ttl ?? hours(DEFAULT_SESSION_TTL_HOURS), now)
  } else if (s) await setSession(tx, key, s.ref, hours(s.ttl_hours ?? DEFAULT_SESSION_TTL_HOURS), now)

  const n = change.nextreply
  if (n && 'cancel' in n) await cancelNextReply(tx, key, now)
  else if (n) await setNextReply(tx, key, n.ref, minutes(n.ttl_minutes ?? DEFAULT_NEXTREPLY_TTL_MINUTES), now)
}

export interface InboundFacts {
  /** The account's name. */
  account: string
  /** The sender as it appears in the unsolicited topic. */
  from: string
  /** Text of a text message (other types are never commands). */
  text?: string | undefined
  /** `reply_ref` of the quoted outbound message. */
  replyRef?: string | null | undefined
  commands: boolean
}

export interface InboundRouting {
  /** The decision with the refs active now. */
  decision: RoutingDecision
  /**
   * Call once the message is stored (not a duplicate): consumes the next-reply ref the decision
   * used and returns the final decision. The consumption is a conditional UPDATE, so of two
   * concurrent messages only one takes the ref; the other gets the decision without it.
   */
  commit(): Promise<RoutingDecision>
}

/**
 * Routes one inbound message: loads the active refs of (account, contact) (none without a contact)
 * and asks the pure `route`. Nothing is written until `commit()`, so a provider's duplicate
 * delivery (dropped by the caller) consumes nothing. Runs inside the ingesting write.
 *
 * @example
 * const routed = await routeInbound(tx, { accountId, contactId }, { account: 'acme', from: '+1…', text, replyRef, commands }, now)
 * // …insert the message with routed.decision.topic; if it was new:
 * const decision = await routed.commit()
 */
export async function routeInbound(tx: Tx, key: Omit<RefsKey, 'tenantId'> | undefined, facts: InboundFacts, now: number): Promise<InboundRouting> {
  const refs = key ? await activeRefs(tx, key, now) : {}
  const decision = route({ ...facts, nextReplyRef: refs.nextreply?.ref, sessionRef: refs.session?.ref })
  return {
    decision,
    async commit() {
      if (decision.kind !== 'nextreply' || !key) return decision
      if (await consumeNextReply(tx, key, decision.ref, now)) return decision
      // Another message consumed it between our read and our update: route as if it were gone.
      return route({ ...facts, sessionRef: refs.session?.ref })
    },
  }
}

/**
 * Contact merge (DESIGN §7): the survivor keeps its own active refs and takes the other contact's
 * where it has none; the other contact's rows are removed.
 */
export async function mergeRoutingRefs(tx: Tx, keepId: string, goneId: string, now: number): Promise<void> {
  const theirs = await tx.selectFrom('routing_refs').selectAll().where('contact_id', '=', goneId).execute()
  for (const g of theirs) {
    const key: RefsKey = { tenantId: g.tenant_id, accountId: g.account_id, contactId: keepId }
    const ours = await activeRefs(tx, key, now)
    const session = active(g.session_ref, g.session_expires_at, now)
    const nextreply = active(g.nextreply_ref, g.nextreply_expires_at, now)
    if (session && !ours.session) await upsert(tx, key, { session_ref: session.ref, session_expires_at: session.expiresAt }, now)
    if (nextreply && !ours.nextreply) await upsert(tx, key, { nextreply_ref: nextreply.ref, nextreply_expires_at: nextreply.expiresAt }, now)
    await tx.deleteFrom('routing_refs').where('account_id', '=', g.account_id).where('contact_id', '=', goneId).execute()
  }
}
