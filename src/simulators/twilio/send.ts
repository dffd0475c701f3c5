import type { FaultPicker } from '../shared/faults.js'
import type { FaultRule, SentRecord, SimulatorStats, StatusTimings } from '../types.js'
import { isAuthorized, type AccountRegistry, type TwilioSimAccount } from './accounts.js'
import { whatsAppIdOf } from './inbound.js'
import { planStatuses, messageResource, type PlannedFailure, type StoredMessage } from './messages.js'
import { decodeForm } from './signature.js'
import { validateSend, type SendRequest } from './validate.js'
import { digitsOf, newSid, twilioError } from './wire.js'

/**
 * `POST /2010-04-01/Accounts/{AccountSid}/Messages.json`: auth, validation, injected faults,
 * then acceptance (201 + Message resource) with its status callbacks planned.
 */

export type ApiReply = { status: number; json: unknown; headers?: Record<string, string> } | { hang: true }

export interface SendContext {
  accounts: AccountRegistry
  faults: FaultPicker
  stats: SimulatorStats
  timings: StatusTimings
  /** Recipients opted out of every account's SMS (digits). */
  optedOut: Set<string>
  /** When set, free-form WhatsApp sends need an inbound from the contact in the last 24 h. */
  enforceWindow: boolean
  /** Last inbound time per `${business digits}:${contact wa_id}`. */
  lastInbound: Map<string, number>
  /** Stores the message and schedules its callbacks; with a record, also counts it as sent. */
  accept(message: StoredMessage, record: SentRecord | undefined): void
  channelInstallSid(account: TwilioSimAccount, senderNumber: string): string
  now(): number
}

const WINDOW_MS = 24 * 60 * 60 * 1000

/**
 * @example
 * const reply = await handleSend(ctx, 'AC…', req.headers.authorization, rawBody)
 */
export async function handleSend(
  ctx: SendContext,
  accountSid: string,
  authorization: string | undefined,
  rawBody: string,
): Promise<ApiReply> {
  const account = ctx.accounts.bySid(accountSid)
  if (!account || !isAuthorized(account, authorization)) {
    ctx.stats.rejected++
    return {
      status: 401,
      json: twilioError(401, 20003, 'Authenticate', 'Your AccountSid or AuthToken was incorrect.'),
      headers: { 'www-authenticate': 'Basic realm="Twilio API"' },
    }
  }
  const form = decodeForm(rawBody)
  const validation = validateSend(form, account, ctx.accounts)
  if (!validation.ok) {
    ctx.stats.rejected++
    return { status: 400, json: twilioError(400, validation.code, validation.message) }
  }
  const request = validation.request
  if (request.channel === 'sms' && isOptedOut(ctx, account, request.recipient)) {
    ctx.stats.rejected++
    return { status: 400, json: twilioError(400, 21610, 'Attempt to send to unsubscribed recipient') }
  }

  const fault = ctx.faults.pick(request.recipient)
  const outcome: FaultOutcome = fault ? await applyFault(fault, request) : { kind: 'proceed' }
  if (outcome.kind !== 'proceed') ctx.stats.faulted++
  if (outcome.kind === 'hang') return { hang: true }
  if (outcome.kind === 'reply') return outcome.reply
  const failure = outcome.kind === 'fail' ? outcome.failure : naturalFailure(ctx, request)

  const message: StoredMessage = {
    sid: newSid('SM'),
    accountSid: account.accountSid,
    channelInstallSid: ctx.channelInstallSid(account, request.senderNumber),
    request,
    createdAt: ctx.now(),
    plan: planStatuses(request, ctx.timings, failure),
  }
  const record: SentRecord = {
    providerMessageId: message.sid,
    account: request.senderNumber,
    to: request.to,
    type: request.type,
    body: form,
    at: message.createdAt,
  }
  const clientRef = clientRefOf(request)
  if (clientRef !== undefined) record.clientRef = clientRef
  // A send failed by an injected fault is not counted as accepted (nor for duplicates): the
  // gateway is expected to retry a throttled message with the same id.
  if (outcome.kind === 'fail') {
    ctx.accept(message, undefined)
  } else {
    ctx.stats.sent++
    ctx.accept(message, record)
  }
  return { status: 201, json: messageResource(message, message.createdAt) }
}

type FaultOutcome =
  | { kind: 'proceed' }
  | { kind: 'hang' }
  | { kind: 'reply'; reply: ApiReply }
  | { kind: 'fail'; failure: PlannedFailure }

/**
 * Where Twilio reports each fault (twilio.md §1, §3, §5): throttling of the REST API is a
 * synchronous 429 / 20429; the channel's own limit (the WhatsApp pair/sender limit) is accepted
 * and then fails with 63018; a number not on WhatsApp is accepted and fails with 63003.
 */
async function applyFault(fault: FaultRule, request: SendRequest): Promise<FaultOutcome> {
  switch (fault.kind) {
    case 'timeout':
      return { kind: 'hang' }
    case 'slow':
      await new Promise((resolve) => setTimeout(resolve, fault.delayMs ?? 1000))
      return { kind: 'proceed' }
    case 'server_error':
      return { kind: 'reply', reply: { status: 500, json: twilioError(500, 20500, 'Internal Server Error') } }
    case 'rate_limit':
      return { kind: 'reply', reply: { status: 429, json: twilioError(429, 20429, 'Too Many Requests') } }
    case 'pair_rate_limit':
      return { kind: 'fail', failure: { errorCode: 63018 } }
    case 'not_on_whatsapp':
      return { kind: 'fail', failure: { errorCode: request.channel === 'whatsapp' ? 63003 : 30005 } }
  }
}

/** Failures that follow from the recipient, not from an injected fault. */
function naturalFailure(ctx: SendContext, request: SendRequest): PlannedFailure | undefined {
  if (request.channel !== 'whatsapp') return undefined
  // Sandbox convention (DESIGN §11): numbers ending in 0000 are not on WhatsApp.
  if (/^\+\d+0000$/.test(request.recipient)) return { errorCode: 63003 }
  if (ctx.enforceWindow && request.type !== 'template') {
    const last = ctx.lastInbound.get(windowKey(request.senderNumber, request.recipient))
    if (last === undefined || ctx.now() - last > WINDOW_MS) return { errorCode: 63016 }
  }
  return undefined
}

export function windowKey(businessNumber: string, contact: string): string {
  return `${digitsOf(businessNumber)}:${whatsAppIdOf(contact)}`
}

function isOptedOut(ctx: SendContext, account: TwilioSimAccount, recipient: string): boolean {
  const digits = digitsOf(recipient)
  return ctx.optedOut.has(digits) || (account.optedOut ?? []).some((n) => digitsOf(n) === digits)
}

/**
 * Twilio has no client-reference field, so the simulator reads wagate's message id from the
 * StatusCallback URL's `wagate_id` query parameter when the adapter puts it there.
 */
export function clientRefOf(request: SendRequest): string | undefined {
  if (!request.statusCallback) return undefined
  return new URL(request.statusCallback).searchParams.get('wagate_id') ?? undefined
}
