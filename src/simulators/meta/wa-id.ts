/**
 * How WhatsApp names a phone number internally (its `wa_id`), which is not always the number the
 * business typed: Brazil drops the mobile ninth digit, Mexico drops the `1` after the country code
 * (meta.md §1.3, fixture send-response-wa_id-mismatch-brazil.json).
 *
 * @example
 * waIdFor('+55 11 98765-4321') // '551187654321'
 * waIdFor('5215512345678')     // '525512345678'
 * waIdFor('+16505551234')      // '16505551234'
 */
export function waIdFor(phone: string): string {
  const digits = phone.replace(/\D/g, '')
  const brazil = /^55(\d{2})9(\d{8})$/.exec(digits)
  if (brazil) return `55${brazil[1]}${brazil[2]}`
  const mexico = /^521(\d{10})$/.exec(digits)
  if (mexico) return `52${mexico[1]}`
  return digits
}

/**
 * A business-scoped user id (`US.13491208655302741918`) or parent id (`US.ENT.1181…`), never a phone
 * (meta.md §6: ISO country code, dot, up to 128 alphanumerics).
 *
 * @example
 * isBsuid('US.1234') // true
 * isBsuid('+16505551234') // false
 */
export function isBsuid(value: string): boolean {
  return /^[A-Z]{2}\.(ENT\.)?[A-Za-z0-9]{1,128}$/.test(value)
}

/**
 * A plausible phone number as `to`: 6–15 digits once `+`, spaces, dashes, dots and brackets are removed.
 *
 * @example
 * looksLikePhone('+1 (650) 555-1234') // true
 */
export function looksLikePhone(value: string): boolean {
  return /^\+?[\d\s\-().]+$/.test(value) && /^\d{6,15}$/.test(value.replace(/\D/g, ''))
}

/**
 * Sandbox rule (DESIGN §11): numbers whose digits end in 0000 are not on WhatsApp.
 *
 * @example
 * isNotOnWhatsApp('+15550000000') // true
 */
export function isNotOnWhatsApp(phone: string): boolean {
  return phone.replace(/\D/g, '').endsWith('0000')
}
