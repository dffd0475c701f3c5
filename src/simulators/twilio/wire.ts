import { randomBytes } from 'node:crypto'

/**
 * Small pieces of Twilio's wire format shared by the simulator's routes: ids, dates and the REST
 * error body `{code, message, more_info, status}` (twilio.md §1).
 */

export const API_VERSION = '2010-04-01'

/**
 * A Twilio SID: two-letter prefix + 32 lowercase hex digits. Random rather than seeded: a sandbox
 * restarted with the same seed against a kept database must not hand out old message ids.
 *
 * @example
 * newSid('SM') // 'SM3f1c…' (34 chars)
 */
export function newSid(prefix: 'SM' | 'MM' | 'ME' | 'XE'): string {
  return prefix + randomBytes(16).toString('hex')
}

/**
 * RFC 2822 date as Twilio writes it: `Thu, 24 Aug 2023 05:01:45 +0000`.
 *
 * @example
 * rfc2822(0) // 'Thu, 01 Jan 1970 00:00:00 +0000'
 */
export function rfc2822(ms: number): string {
  return new Date(ms).toUTCString().replace(/GMT$/, '+0000')
}

/** `RawDlrDoneDate` of SMS status callbacks: YYMMDDhhmm in UTC. */
export function dlrDoneDate(ms: number): string {
  const d = new Date(ms)
  const two = (n: number) => String(n).padStart(2, '0')
  return two(d.getUTCFullYear() % 100) + two(d.getUTCMonth() + 1) + two(d.getUTCDate()) + two(d.getUTCHours()) + two(d.getUTCMinutes())
}

export interface TwilioErrorBody {
  code: number
  message: string
  more_info: string
  status: number
  detail?: string
}

/**
 * The JSON body of a refused REST call.
 *
 * @example
 * twilioError(400, 21211, "The 'To' number 5551234567 is not a valid phone number.")
 */
export function twilioError(status: number, code: number, message: string, detail?: string): TwilioErrorBody {
  const body: TwilioErrorBody = { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status }
  if (detail !== undefined) body.detail = detail
  return body
}

/**
 * Titles of the asynchronous errors the simulator reports in failed status callbacks
 * (`ErrorCode` + `ChannelStatusMessage`); titles from twilio.md §5.
 */
export const CALLBACK_ERRORS: Record<number, string> = {
  63003: 'Channel could not find To address',
  63016: 'Failed to send freeform message because you are outside the allowed window.',
  63018: 'Rate limit exceeded for Channel',
}

/** Digits of a number or channel address (`whatsapp:+5511…` → `5511…`). */
export function digitsOf(value: string): string {
  return value.replace(/\D/g, '')
}

/** Strips the `whatsapp:` channel prefix. */
export function stripChannel(address: string): string {
  return address.startsWith('whatsapp:') ? address.slice('whatsapp:'.length) : address
}
