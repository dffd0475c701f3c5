import type { Party } from '../types.js'

const DIGITS = /^[0-9]{6,15}$/
/** Gupshup's documentation prints numbers with digits masked as `x` (`918x98xx21x4`). */
const MASKED_DIGITS = /^[0-9][0-9xX]{4,19}$/
/** Business-scoped user id (2026), e.g. `IN.1648738043044942`: never a phone number. */
const USER_ID = /^[A-Z]{2}\.[0-9A-Za-z]+$/

/**
 * The party a Gupshup address (`source`, `destination`, `phone`) names. A digits-only value is both
 * the E.164 phone and the wa_id; a user id goes to `userId`; a masked documentation number is kept
 * as an opaque `waId` only; anything else names nobody.
 *
 * @example
 * partyOf('917506080480') // { phone: '+917506080480', waId: '917506080480' }
 * partyOf('IN.1648738043044942') // { userId: 'IN.1648738043044942' }
 */
export function partyOf(address: string | undefined): Party {
  const value = address?.trim().replace(/^\+/, '')
  if (!value) return {}
  if (DIGITS.test(value)) return { phone: `+${value}`, waId: value }
  if (USER_ID.test(value)) return { userId: value }
  if (MASKED_DIGITS.test(value)) return { waId: value }
  return {}
}

/** The first address that names somebody. */
export function firstParty(...addresses: Array<string | undefined>): Party {
  for (const address of addresses) {
    const party = partyOf(address)
    if (Object.keys(party).length > 0) return party
  }
  return {}
}

/**
 * Only the wa_id of a digits-only address (a `sent` event's `destination` is the WhatsApp id).
 *
 * @example
 * waIdOf('5593587654321') // '5593587654321'
 */
export function waIdOf(address: string | undefined): string | undefined {
  return partyOf(address).waId
}
