import type { NormalizedError } from '../../domain/errors.js'
import type { Party } from '../types.js'
import { normalizeMetaError } from './errors.js'
import { contactSchema, errorSchema, type MetaContact } from './webhook-schemas.js'

/** A business-scoped user id (`US.1349…`, `US.ENT.…`) has a dot and letters; a phone has neither. */
export function isBusinessScopedId(id: string): boolean {
  return id.includes('.') && /[A-Za-z]/.test(id)
}

/**
 * Reads a Meta identifier (`from`, `recipient_id`, `wa_id`) into a party: digits are a phone and
 * wa_id, a BSUID is a user id. Returns undefined for anything else.
 *
 * @example
 * partyFromId('972987654321') // { phone: '+972987654321', waId: '972987654321' }
 * partyFromId('US.1234')      // { userId: 'US.1234' }
 */
export function partyFromId(id: string | undefined): Party | undefined {
  if (id === undefined || id === '') return undefined
  if (isBusinessScopedId(id)) return { userId: id }
  const digits = /^\+?(\d{1,20})$/.exec(id)?.[1]
  return digits ? { phone: `+${digits}`, waId: digits } : undefined
}

/** Well-formed `value.contacts[]` entries; malformed ones only cost us the profile name. */
export function readContacts(raw: readonly unknown[] | undefined): MetaContact[] {
  return (raw ?? []).flatMap((c) => {
    const parsed = contactSchema.safeParse(c)
    return parsed.success ? [parsed.data] : []
  })
}

function matches(contact: MetaContact, party: Party): boolean {
  const ids = [party.waId, party.userId].filter((v): v is string => Boolean(v))
  return (contact.wa_id !== undefined && ids.includes(contact.wa_id)) || (contact.user_id !== undefined && ids.includes(contact.user_id))
}

/**
 * Completes a party from the `contacts[]` entry naming the same wa_id or user id: profile name,
 * username, and whichever of phone / user id the message itself left out.
 */
export function withContact(party: Party, contacts: readonly MetaContact[]): Party {
  const contact = contacts.find((c) => matches(c, party))
  if (!contact) return party
  const fromWaId = partyFromId(contact.wa_id) ?? {}
  const merged: Party = { ...fromWaId, ...stripUndefined(party) }
  if (!merged.userId && contact.user_id) merged.userId = contact.user_id
  if (!merged.parentUserId && contact.parent_user_id) merged.parentUserId = contact.parent_user_id
  if (contact.profile?.name) merged.name = contact.profile.name
  if (contact.profile?.username) merged.username = contact.profile.username
  return merged
}

function stripUndefined(party: Party): Party {
  return Object.fromEntries(Object.entries(party).filter(([, v]) => v !== undefined)) as Party
}

/**
 * Normalizes one webhook `errors[]` element. Meta's most specific text wins: `error_data.details`,
 * then `message`, then `title` (some failures, like 131014, carry only a title).
 */
export function normalizeWebhookError(raw: unknown): NormalizedError {
  const parsed = errorSchema.safeParse(raw)
  if (!parsed.success) return normalizeMetaError(undefined, 'unreadable error object')
  const { code, title, message, error_data } = parsed.data
  return normalizeMetaError(code, error_data?.details ?? message ?? title)
}
