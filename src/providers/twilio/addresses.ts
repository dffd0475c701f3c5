import { SendError } from '../../domain/errors.js'
import type { Channel, Party, Recipient } from '../types.js'

/**
 * Twilio channel addresses: `whatsapp:+E164` on WhatsApp (or `whatsapp:US.1234`, a business-scoped
 * user id), a bare `+E164` on SMS.
 */

const WHATSAPP_PREFIX = 'whatsapp:'
const PHONE = /^\+?[1-9]\d{5,14}$/
// Business-scoped ids look like `CC.xxx`; courier tells them from numbers by the dot (twilio.md §2).
const USER_ID = /^[A-Za-z]{2}\.[A-Za-z0-9_-]{1,120}$/
const WA_ID = /^\d{5,20}$/

/** The address with any `whatsapp:` prefix removed. */
export function stripChannelPrefix(address: string): string {
  return address.startsWith(WHATSAPP_PREFIX) ? address.slice(WHATSAPP_PREFIX.length) : address
}

/**
 * Who an address names: a phone (E.164 with `+`) or a business-scoped user id. Anything else → {}.
 *
 * @example
 * partyFromAddress('whatsapp:+31612345678') // { phone: '+31612345678' }
 * partyFromAddress('whatsapp:US.1234')      // { userId: 'US.1234' }
 */
export function partyFromAddress(address: string | undefined): Party {
  if (address === undefined) return {}
  const bare = stripChannelPrefix(address.trim())
  if (PHONE.test(bare)) return { phone: bare.startsWith('+') ? bare : `+${bare}` }
  if (USER_ID.test(bare)) return { userId: bare }
  return {}
}

/** A WhatsApp id as Twilio's `WaId` gives it (digits, no `+`), or undefined when it is not one. */
export function waIdOf(value: string | undefined): string | undefined {
  return value !== undefined && WA_ID.test(value) ? value : undefined
}

/**
 * The `To` form field. WhatsApp prefers the known wa_id (DESIGN §7), then the number, then the
 * business-scoped user id; SMS takes the number (or the wa_id digits, which are the number).
 *
 * @example
 * toAddress('whatsapp', { waId: '31612345678' }) // 'whatsapp:+31612345678'
 * toAddress('sms', { phone: '+31612345678' })    // '+31612345678'
 */
export function toAddress(channel: Channel, to: Recipient): string {
  const number = to.waId !== undefined && WA_ID.test(to.waId) ? `+${to.waId}` : to.phone
  if (channel === 'sms') {
    const phone = to.phone ?? number
    if (phone === undefined || !PHONE.test(phone)) {
      throw new SendError({ code: 'invalid_request', providerMessage: 'SMS needs a phone number recipient (E.164)' })
    }
    return phone.startsWith('+') ? phone : `+${phone}`
  }
  if (number !== undefined && PHONE.test(number)) return `${WHATSAPP_PREFIX}${number.startsWith('+') ? number : `+${number}`}`
  if (to.userId !== undefined && USER_ID.test(to.userId)) return `${WHATSAPP_PREFIX}${to.userId}`
  throw new SendError({
    code: 'invalid_request',
    providerMessage: 'the recipient has no usable phone number, wa_id or business-scoped user id',
  })
}

/** The `From` form field for the account's own number. */
export function fromAddress(channel: Channel, phoneNumber: string): string {
  return channel === 'sms' ? phoneNumber : `${WHATSAPP_PREFIX}${phoneNumber}`
}
