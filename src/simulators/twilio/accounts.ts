import { timingSafeEqual } from 'node:crypto'
import { z } from 'zod'
import { digitsOf, stripChannel } from './wire.js'

/** One Twilio account known to the simulator. */
export interface TwilioSimAccount {
  /** `AC` + 32 hex. */
  accountSid: string
  authToken: string
  /** API keys (`SK…` + secret) usable as Basic credentials instead of the SID/token pair. */
  apiKeys?: Array<{ sid: string; secret: string }>
  /** Sender numbers, E.164 (`+14155238886`); each works as an SMS sender and, as `whatsapp:+…`, a WhatsApp sender. */
  numbers: string[]
  /** Where inbound messages to these numbers are posted. */
  inboundWebhookUrl: string
  /** Recipients that texted STOP to this account's numbers: SMS sends to them fail with 21610. */
  optedOut?: string[]
}

export const twilioSimAccountSchema = z.object({
  accountSid: z.string().regex(/^AC[0-9a-fA-F]{32}$/),
  authToken: z.string().min(1),
  apiKeys: z.array(z.object({ sid: z.string().regex(/^SK[0-9a-fA-F]{32}$/), secret: z.string().min(1) })).optional(),
  numbers: z.array(z.string().regex(/^(whatsapp:)?\+[1-9]\d{6,14}$/)).min(1),
  inboundWebhookUrl: z.url(),
  optedOut: z.array(z.string()).optional(),
})

export interface AccountRegistry {
  add(account: TwilioSimAccount): void
  bySid(accountSid: string): TwilioSimAccount | undefined
  /** The account owning a sender number (E.164, digits or `whatsapp:+…`). */
  byNumber(number: string): TwilioSimAccount | undefined
  /** The account's number equal to `address` (any form), as E.164, or undefined. */
  ownNumber(account: TwilioSimAccount, address: string): string | undefined
}

/**
 * Accounts by SID and by sender number. Adding an account with a known SID replaces it.
 *
 * @example
 * const accounts = createAccountRegistry()
 * accounts.add({ accountSid: 'AC…', authToken: 't', numbers: ['+14155238886'], inboundWebhookUrl: 'http://127.0.0.1:3000/in' })
 * accounts.byNumber('whatsapp:+14155238886')?.accountSid
 */
export function createAccountRegistry(): AccountRegistry {
  const bySid = new Map<string, TwilioSimAccount>()
  const byDigits = new Map<string, TwilioSimAccount>()
  return {
    add(account) {
      const normalized = { ...account, numbers: account.numbers.map((n) => stripChannel(n)) }
      const previous = bySid.get(account.accountSid)
      if (previous) for (const n of previous.numbers) byDigits.delete(digitsOf(n))
      bySid.set(account.accountSid, normalized)
      for (const n of normalized.numbers) byDigits.set(digitsOf(n), normalized)
    },
    bySid: (sid) => bySid.get(sid),
    byNumber: (number) => byDigits.get(digitsOf(number)),
    ownNumber(account, address) {
      const bare = stripChannel(address)
      if (!/^\+[1-9]\d{6,14}$/.test(bare)) return undefined
      return account.numbers.find((n) => n === bare)
    },
  }
}

/**
 * Checks HTTP Basic credentials for the account named in the URL path: either the account's
 * SID + auth token, or one of its API key SIDs + secret (twilio.md §1).
 *
 * @example
 * isAuthorized(account, 'Basic ' + Buffer.from(`${sid}:${token}`).toString('base64')) // true
 */
export function isAuthorized(account: TwilioSimAccount, authorization: string | undefined): boolean {
  const credentials = parseBasic(authorization)
  if (!credentials) return false
  const { user, password } = credentials
  if (user === account.accountSid) return safeEqual(password, account.authToken)
  const key = account.apiKeys?.find((k) => k.sid === user)
  return key !== undefined && safeEqual(password, key.secret)
}

function parseBasic(header: string | undefined): { user: string; password: string } | undefined {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '')
  if (!match?.[1]) return undefined
  const decoded = Buffer.from(match[1], 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  if (colon < 0) return undefined
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) }
}

function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8')
  const right = Buffer.from(b, 'utf8')
  return left.length === right.length && timingSafeEqual(left, right)
}
