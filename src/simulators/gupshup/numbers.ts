import { parsePhoneNumberFromString } from 'libphonenumber-js'

/** Digits only, for comparing numbers written with or without `+`, spaces or dashes. */
export function digitsOf(value: string): string {
  return value.replace(/\D/g, '')
}

/** Brazilian mobile with the ninth digit: 55 + two-digit area code + 9 + eight digits. */
const BRAZIL_NINTH_DIGIT = /^55([1-9][1-9])9(\d{8})$/

/**
 * The WhatsApp id a number is known by. WhatsApp registered many Brazilian mobiles before the
 * ninth digit existed and still knows them by the eight-digit form, so a send to the 13-digit number
 * reaches the 12-digit wa_id (and Gupshup reports the difference with a `mismatch` event).
 *
 * @example
 * whatsappIdFor('5535987654321') // '553587654321'
 * whatsappIdFor('919876543210')  // '919876543210'
 */
export function whatsappIdFor(number: string): string {
  const digits = digitsOf(number)
  const brazil = BRAZIL_NINTH_DIGIT.exec(digits)
  return brazil ? `55${brazil[1]}${brazil[2]}` : digits
}

/**
 * Sandbox rule shared by every simulator: numbers ending in 0000 are not on WhatsApp.
 *
 * @example
 * isNotOnWhatsapp('919800000000') // true
 */
export function isNotOnWhatsapp(number: string): boolean {
  return digitsOf(number).endsWith('0000')
}

/**
 * The `sender` block of an inbound callback: country calling code and national part, as Gupshup
 * splits them (`country_code: "91"`, `dial_code: "8x98xx21x4"`).
 *
 * @example
 * senderParts('919876543210') // { country_code: '91', dial_code: '9876543210' }
 */
export function senderParts(number: string): { country_code: string; dial_code: string } {
  const digits = digitsOf(number)
  const parsed = parsePhoneNumberFromString(`+${digits}`)
  if (!parsed) return { country_code: '', dial_code: digits }
  return { country_code: parsed.countryCallingCode, dial_code: parsed.nationalNumber }
}
