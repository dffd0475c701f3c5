import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/max'
import { equivalentNumbers } from './equivalents.js'

/**
 * Recipient parsing (DESIGN §7): numbers through libphonenumber-js (the `max` metadata, so that a
 * number that is not a valid mobile/fixed line is refused), business-scoped user ids recognized
 * by shape and never parsed as numbers. Pure.
 *
 * @example
 * parseRecipient('35 98765-4321', 'BR') // { ok: true, kind: 'phone', e164: '+5535987654321' }
 * parseRecipient('US.13491208655302741918') // { ok: true, kind: 'user_id', userId: 'US.13491208655302741918' }
 */
export type ParsedRecipient =
  | { ok: true; kind: 'phone'; e164: string }
  | { ok: true; kind: 'wa_id'; waId: string }
  | { ok: true; kind: 'user_id'; userId: string }
  | { ok: false; reason: string }

/** `US.1349…`, `US.ENT.1181…`: ISO country, optional ENT, then alphanumerics. */
const USER_ID = /^[A-Z]{2}\.(?:ENT\.)?[A-Za-z0-9]{1,128}$/

export function isUserId(value: string): boolean {
  return USER_ID.test(value)
}

export function parsePhone(input: string, defaultCountry?: string): { ok: true; e164: string } | { ok: false; reason: string } {
  const trimmed = input.trim()
  // An opening parenthesis may lead: "(415) 555-2671" is how most national numbers are written.
  if (!/^\+?[\d\s().-]*\d[\d\s().-]*$/.test(trimmed)) {
    return { ok: false, reason: `"${input}" is not a phone number (digits, spaces, dashes, parentheses and a leading + only)` }
  }
  const international = trimmed.startsWith('+')
  const country = defaultCountry?.toUpperCase()
  if (!international && !country) {
    return { ok: false, reason: `"${input}" has no country code; write it as +<country code><number> or set the account's default_country` }
  }
  const parsed = parsePhoneNumberFromString(trimmed, international ? undefined : (country as CountryCode))
  if (!parsed) return { ok: false, reason: `"${input}" could not be read as a phone number` }
  // WhatsApp's legacy forms (+52 1 …, a Brazilian mobile without its ninth digit) are no longer
  // valid numbers but still name real WhatsApp users: accept them as written when their
  // equivalent form is valid, so the wa_id a provider reveals can be learned against them.
  if (!parsed.isValid() && !equivalentNumbers(parsed.number).slice(1).some((alt) => parsePhoneNumberFromString(alt)?.isValid())) {
    return { ok: false, reason: `${parsed.number} is not a valid number for ${parsed.country ?? `+${parsed.countryCallingCode}`}` }
  }
  return { ok: true, e164: parsed.number }
}

/** Reads the `to` of an API request: a number, `tel:`, `whatsapp:<wa_id>`, `wauser:<id>` or a bare user id. */
export function parseRecipient(input: string, defaultCountry?: string): ParsedRecipient {
  const value = input.trim()
  if (value.startsWith('wauser:') || isUserId(value)) {
    const userId = value.replace(/^wauser:/, '')
    return isUserId(userId) ? { ok: true, kind: 'user_id', userId } : { ok: false, reason: `"${userId}" is not a business-scoped user id` }
  }
  if (value.startsWith('whatsapp:')) {
    const waId = value.slice('whatsapp:'.length).replace(/^\+/, '')
    return /^\d{6,20}$/.test(waId) ? { ok: true, kind: 'wa_id', waId } : { ok: false, reason: `"${waId}" is not a WhatsApp id (digits only)` }
  }
  const phone = parsePhone(value.replace(/^tel:/, ''), defaultCountry)
  return phone.ok ? { ok: true, kind: 'phone', e164: phone.e164 } : phone
}

/** The `tel:` / `whatsapp:` / `wauser:` URN strings of the contact model. */
export const urn = {
  tel: (e164: string) => `tel:${e164}`,
  whatsapp: (waId: string) => `whatsapp:${waId}`,
  wauser: (userId: string) => `wauser:${userId}`,
}

export function digits(value: string): string {
  return value.replace(/\D/g, '')
}
