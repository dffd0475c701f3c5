/**
 * Phone number forms on the Sinch WhatsApp channel. Inbound callbacks carry the identity as digits
 * without `+` (`46712312312`), delivery reports with `+` (`+46702471483`) (DOCS21 samples), so a
 * gateway has to normalise both.
 */

export function digitsOf(value: string): string {
  return value.replace(/\D/g, '')
}

/**
 * The WhatsApp id of a number: Brazilian mobiles (+55, area code, ninth digit `9`, eight digits)
 * are known to WhatsApp without the ninth digit, so `+5535987654321` is `553587654321` (12 digits).
 *
 * @example
 * whatsappIdentity('+5535987654321') // '553587654321'
 * whatsappIdentity('+46712312312')   // '46712312312'
 */
export function whatsappIdentity(number: string): string {
  const digits = digitsOf(number)
  const brazilMobile = /^55(\d{2})9(\d{8})$/.exec(digits)
  if (brazilMobile) return `55${brazilMobile[1]}${brazilMobile[2]}`
  return digits
}

/**
 * Whether a channel identity can be a WhatsApp phone number: optional `+`, then 6 to 15 digits
 * (E.164 has at most 15).
 *
 * @example
 * isPhoneIdentity('+46712312312') // true
 * isPhoneIdentity('whatsapp:+1')  // false
 */
export function isPhoneIdentity(identity: string): boolean {
  return /^\+?\d{6,15}$/.test(identity)
}

/** Sandbox rule (DESIGN §11): numbers ending in 0000 are not on WhatsApp. */
export function isUnreachableSandboxNumber(identity: string): boolean {
  return digitsOf(identity).endsWith('0000')
}
