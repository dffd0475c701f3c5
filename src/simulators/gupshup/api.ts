import { randomBytes, randomUUID, timingSafeEqual } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { enqueuedEvent, mismatchEvent, progressEvent, syncFailedEvent } from './events.js'
import { formFields, readBody, sendJson } from './http.js'
import { digitsOf, isNotOnWhatsapp, whatsappIdFor } from './numbers.js'
import { optOutKey, type SimState } from './state.js'
import type { GupshupSentMessage, GupshupSimApp } from './types.js'
import { GUPSHUP_ERRORS, parseSendForm, type ParsedSend } from './wire.js'

/** The provider routes: session and template sends of the v1 API. */
export const API_ROUTES: Record<string, 'session' | 'template'> = {
  '/wa/api/v1/msg': 'session',
  '/wa/api/v1/template/msg': 'template',
}

/** Failure codes Gupshup reports before the message reaches WhatsApp (error-and-status-messages). */
const FAILURES = {
  notOnWhatsapp: { code: 1002, reason: 'Number Does Not Exist On WhatsApp' },
  optedOut: { code: 1012, reason: 'Message Sending failed as the phone number is opted out.' },
} as const

/**
 * Handles one call to a send route: auth, shape, faults, then the `submitted` answer and the
 * status callbacks that follow it.
 *
 * @example
 * if (API_ROUTES[path]) await handleSend(state, API_ROUTES[path], req, res)
 */
export async function handleSend(state: SimState, kind: 'session' | 'template', req: IncomingMessage, res: ServerResponse): Promise<void> {
  state.stats.requests++
  const raw = await readBody(req)
  if (req.method !== 'POST') {
    state.stats.rejected++
    return sendJson(res, 405, { message: 'Method Not Allowed', status: 'error' })
  }
  const candidates = appsForKey(state, req.headers.apikey)
  if (candidates.length === 0) return refuse(state, res, GUPSHUP_ERRORS.authFailed)
  if (raw === undefined) return refuse(state, res, GUPSHUP_ERRORS.invalidMessage)
  const parsed = parseSendForm(kind, formFields(req, raw), candidates)
  if (!parsed.ok) return refuse(state, res, parsed.error)

  const fault = state.faults.pick(parsed.destination)
  switch (fault?.kind) {
    case 'rate_limit':
    case 'pair_rate_limit':
      state.stats.faulted++
      return sendJson(res, GUPSHUP_ERRORS.tooManyRequests.status, GUPSHUP_ERRORS.tooManyRequests.body)
    case 'server_error':
      state.stats.faulted++
      return sendJson(res, GUPSHUP_ERRORS.internal.status, GUPSHUP_ERRORS.internal.body)
    case 'timeout':
      // Never answer; the socket stays open until the client gives up or the simulator stops.
      state.stats.faulted++
      return
    case 'slow':
      await state.hold(fault.delayMs ?? 1000)
      break
    default:
      break
  }
  accept(state, parsed, res, fault?.kind === 'not_on_whatsapp')
}

function accept(state: SimState, parsed: Extract<ParsedSend, { ok: true }>, res: ServerResponse, forcedNotOnWhatsapp: boolean): void {
  const gsId = randomUUID()
  const { app, destination } = parsed
  const message: GupshupSentMessage = {
    gsId,
    whatsappMessageId: whatsappMessageId(),
    appName: app.appName,
    destination,
    waId: whatsappIdFor(destination),
    kind: parsed.kind,
    content: parsed.kind === 'session' ? parsed.message : parsed.template,
  }
  state.messages.set(gsId, message)
  state.messages.set(message.whatsappMessageId, message)
  state.records.push({ providerMessageId: gsId, account: app.appName, to: destination, type: parsed.type, body: parsed.fields, at: Date.now() })
  state.stats.sent++
  // Gupshup processes asynchronously: the answer only says the request was taken.
  sendJson(res, 202, { status: 'submitted', messageId: gsId })

  if (forcedNotOnWhatsapp || isNotOnWhatsapp(destination)) return fail(state, app, message, FAILURES.notOnWhatsapp)
  if (state.optedOut.has(optOutKey(app.appName, digitsOf(destination)))) return fail(state, app, message, FAILURES.optedOut)
  scheduleProgress(state, app, message)
}

function fail(state: SimState, app: GupshupSimApp, m: GupshupSentMessage, failure: { code: number; reason: string }): void {
  state.post(app, 'message-event', syncFailedEvent({ gsId: m.gsId, destination: m.destination, ...failure }), state.timings.enqueuedMs, true)
}

function scheduleProgress(state: SimState, app: GupshupSimApp, m: GupshupSentMessage): void {
  const t = state.timings
  const now = Date.now()
  state.post(app, 'message-event', enqueuedEvent(m), t.enqueuedMs, true)
  if (m.waId !== m.destination) {
    const between = Math.floor((t.enqueuedMs + t.sentMs) / 2)
    state.post(app, 'message-event', mismatchEvent({ destination: m.destination, waId: m.waId }), between, true)
  }
  const steps = [
    ['sent', t.sentMs],
    ['delivered', t.deliveredMs],
    ['read', t.readMs],
  ] as const
  for (const [status, delay] of steps) {
    state.post(app, 'message-event', progressEvent(status, { ...m, at: now + delay }), delay, true)
  }
}

function refuse(state: SimState, res: ServerResponse, answer: { status: number; body: unknown }): void {
  state.stats.rejected++
  sendJson(res, answer.status, answer.body)
}

function appsForKey(state: SimState, header: string | string[] | undefined): GupshupSimApp[] {
  if (typeof header !== 'string' || header === '') return []
  const given = Buffer.from(header)
  return [...state.apps.values()].filter((app) => {
    const expected = Buffer.from(app.apiKey)
    return expected.length === given.length && timingSafeEqual(expected, given)
  })
}

/** WhatsApp ids in Gupshup's status examples look like `gBEGkYaYVSEEAgkD7bRi9syGnBk`. */
function whatsappMessageId(): string {
  return `gBEGkY${randomBytes(16).toString('base64url')}`
}
