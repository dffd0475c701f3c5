import type { AccountRegistry, TwilioSimAccount } from './accounts.js'
import type { FormParams } from './signature.js'
import { stripChannel } from './wire.js'

/**
 * Checks a `POST …/Messages.json` form the way Twilio does and turns it into a typed send, or the
 * Twilio error it would answer (code and message per twilio.md §1/§5 and Twilio's error pages).
 */

export type MessageChannel = 'whatsapp' | 'sms'

export interface SendRequest {
  channel: MessageChannel
  /** `To` exactly as given (`whatsapp:+…`, `whatsapp:US.1234` or `+…`). */
  to: string
  /** The recipient without channel prefix: E.164 or a business-scoped user id. */
  recipient: string
  /** `From` as given, or the sender chosen from the account for a Messaging Service send. */
  from: string
  /** The sender number, E.164: the account key. */
  senderNumber: string
  messagingServiceSid?: string
  body?: string
  mediaUrls: string[]
  contentSid?: string
  contentVariables?: Record<string, string>
  statusCallback?: string
  type: 'text' | 'media' | 'template'
}

export type Validation = { ok: true; request: SendRequest } | { ok: false; code: number; message: string }

const E164 = /^\+[1-9]\d{6,14}$/
/** Business-scoped user id, `CC.digits` (twilio.md §1, `To`). */
const BSUID = /^[A-Z]{2}\.[0-9A-Za-z]+$/
const MAX_BODY = 1600
const MAX_MEDIA = 10

/**
 * @example
 * const v = validateSend(decodeForm(raw), account, registry)
 * if (!v.ok) reply(400, twilioError(400, v.code, v.message))
 */
export function validateSend(form: FormParams, account: TwilioSimAccount, registry: AccountRegistry): Validation {
  const one = (key: string): string | undefined => {
    const v = form[key]
    return Array.isArray(v) ? v[0] : v
  }
  const many = (key: string): string[] => {
    const v = form[key]
    return v === undefined ? [] : Array.isArray(v) ? v : [v]
  }
  const fail = (code: number, message: string): Validation => ({ ok: false, code, message })

  const to = one('To')
  if (!to) return fail(21604, "A 'To' phone number is required.")
  const fromField = one('From') || undefined
  const messagingServiceSid = one('MessagingServiceSid') || undefined
  if (!fromField && !messagingServiceSid) return fail(21603, "A 'From' phone number is required.")
  if (messagingServiceSid && !/^MG[0-9a-fA-F]{32}$/.test(messagingServiceSid)) {
    return fail(21705, 'The Messaging Service is invalid')
  }

  const toIsWhatsApp = to.startsWith('whatsapp:')
  if (fromField && fromField.startsWith('whatsapp:') !== toIsWhatsApp) {
    return fail(21910, "Invalid 'From' and 'To' pair. 'From' and 'To' should be of the same channel")
  }
  const channel: MessageChannel = toIsWhatsApp ? 'whatsapp' : 'sms'
  const recipient = stripChannel(to)
  if (!(E164.test(recipient) || (channel === 'whatsapp' && BSUID.test(recipient)))) {
    return fail(21211, `The 'To' number ${recipient} is not a valid phone number.`)
  }

  let senderNumber: string | undefined
  if (fromField) {
    senderNumber = registry.ownNumber(account, fromField)
    if (!senderNumber) {
      return channel === 'whatsapp'
        ? fail(63007, 'Twilio could not find a Channel with the specified From address')
        : fail(21606, `The From phone number ${fromField} is not a valid, SMS-capable inbound phone number or short code for your account.`)
    }
  } else {
    // A Messaging Service picks a sender from its pool; the simulator's pool is the account's numbers.
    senderNumber = account.numbers[0]
    if (!senderNumber) return fail(21701, 'The Messaging Service does not exist')
  }
  const from = fromField ?? (channel === 'whatsapp' ? `whatsapp:${senderNumber}` : senderNumber)

  const body = one('Body')
  const mediaUrls = many('MediaUrl')
  const contentSid = one('ContentSid') || undefined
  const rawVariables = one('ContentVariables')
  if (!body && mediaUrls.length === 0 && !contentSid) {
    return messagingServiceSid
      ? fail(21619, 'A text message body, media url or Content SID is required.')
      : fail(21602, 'Message body is required.')
  }
  if (body && body.length > MAX_BODY) {
    return fail(21617, 'The concatenated message body exceeds the 1600 character limit.')
  }
  if (mediaUrls.length > MAX_MEDIA) return fail(21623, 'Number of media files exceeds allowed limit')
  if (mediaUrls.some((u) => !isHttpUrl(u))) return fail(21620, 'Invalid media URL(s)')
  if (contentSid && !/^HX[0-9a-fA-F]{32}$/.test(contentSid)) return fail(21655, 'The ContentSid is Invalid.')
  if (rawVariables !== undefined && !contentSid) return fail(21654, 'ContentSid Required')
  let contentVariables: Record<string, string> | undefined
  if (rawVariables !== undefined) {
    contentVariables = parseVariables(rawVariables)
    if (!contentVariables) return fail(21656, 'The ContentVariables Parameter is invalid.')
  }

  const statusCallback = one('StatusCallback') || undefined
  if (statusCallback !== undefined && !isCallbackUrl(statusCallback)) {
    return fail(21609, 'Invalid StatusCallback URL')
  }

  const type = contentSid ? 'template' : mediaUrls.length > 0 ? 'media' : 'text'
  const request: SendRequest = { channel, to, recipient, from, senderNumber, mediaUrls, type }
  if (messagingServiceSid) request.messagingServiceSid = messagingServiceSid
  if (body) request.body = body
  if (contentSid) request.contentSid = contentSid
  if (contentVariables) request.contentVariables = contentVariables
  if (statusCallback) request.statusCallback = statusCallback
  return { ok: true, request }
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value)
    return url.protocol === 'http:' || url.protocol === 'https:'
  } catch {
    return false
  }
}

/** "URL must contain a valid hostname and underscores are not allowed" (OAI, `StatusCallback`). */
function isCallbackUrl(value: string): boolean {
  if (!isHttpUrl(value)) return false
  const host = new URL(value).hostname
  return host.length > 0 && !host.includes('_')
}

/** `ContentVariables` is a JSON object of placeholder → string value. */
function parseVariables(raw: string): Record<string, string> | undefined {
  let parsed: unknown
  try {
    parsed = JSON.parse(raw)
  } catch {
    return undefined
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined
  const out: Record<string, string> = {}
  for (const [key, value] of Object.entries(parsed)) {
    if (typeof value !== 'string') return undefined
    out[key] = value
  }
  return out
}
