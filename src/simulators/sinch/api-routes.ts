import { timingSafeEqual } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { FaultRule } from '../types.js'
import { scheduleDeliveries } from './deliveries.js'
import { parseJson, readAuthorization, readBody, sendJson } from './http.js'
import { isPhoneIdentity } from './identity.js'
import { parseSendRequest, type ParsedSend } from './send-request.js'
import { contactFor, type SimContact, type SinchSimState } from './state.js'
import type { SinchSimApp } from './types.js'
import {
  invalidArgument,
  oauthError,
  permissionDenied,
  resourceExhausted,
  serverError,
  unauthenticated,
  type SinchErrorAnswer,
} from './wire-errors.js'

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8')
  const y = Buffer.from(b, 'utf8')
  return x.length === y.length && timingSafeEqual(x, y)
}

function appWithKey(state: SinchSimState, keyId: string, keySecret?: string): SinchSimApp | undefined {
  for (const app of state.apps.values()) {
    if (app.keyId === keyId && (keySecret === undefined || sameSecret(app.keySecret, keySecret))) return app
  }
  return undefined
}

const answerError = (res: ServerResponse, e: SinchErrorAnswer) => sendJson(res, e.httpStatus, e.body, e.headers)

/**
 * `POST /oauth2/token`: form `grant_type=client_credentials`, HTTP Basic key_id:key_secret
 * (sinch.md §1). Credentials in the form body are not accepted: the documented call uses Basic.
 */
export async function handleToken(state: SinchSimState, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const raw = await readBody(req)
  const creds = readAuthorization(req.headers.authorization)
  if (creds.scheme !== 'basic' || !appWithKey(state, creds.user, creds.password)) {
    const e = oauthError(401, 'invalid_client', 'Client authentication failed: HTTP Basic key_id:key_secret required')
    return sendJson(res, e.httpStatus, e.body, { 'www-authenticate': 'Basic realm="sinch"' })
  }
  if (!String(req.headers['content-type'] ?? '').includes('application/x-www-form-urlencoded')) {
    const e = oauthError(400, 'invalid_request', 'Content-Type must be application/x-www-form-urlencoded')
    return sendJson(res, e.httpStatus, e.body)
  }
  if (new URLSearchParams(raw).get('grant_type') !== 'client_credentials') {
    const e = oauthError(400, 'unsupported_grant_type', 'grant_type must be client_credentials')
    return sendJson(res, e.httpStatus, e.body)
  }
  const token = state.tokens.issue(creds.user)
  sendJson(res, 200, { access_token: token.accessToken, expires_in: token.expiresIn, scope: '', token_type: 'bearer' })
}

/** Bearer from `/oauth2/token`, or Basic key_id:key_secret, which DOCS21 accepts on the API itself. */
function authorize(state: SinchSimState, req: IncomingMessage, projectId: string): SinchErrorAnswer | undefined {
  const creds = readAuthorization(req.headers.authorization)
  let keyId: string
  if (creds.scheme === 'none') return unauthenticated('missing')
  if (creds.scheme === 'bearer') {
    const check = state.tokens.check(creds.token)
    if (!check.ok) return unauthenticated(check.reason)
    keyId = check.keyId
  } else {
    if (!appWithKey(state, creds.user, creds.password)) return unauthenticated('invalid')
    keyId = creds.user
  }
  const inProject = [...state.apps.values()].some((a) => a.keyId === keyId && a.projectId === projectId)
  return inProject ? undefined : permissionDenied(projectId)
}

/** `POST /v1/projects/{projectId}/messages:send`. */
export async function handleSend(state: SinchSimState, projectId: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const raw = await readBody(req)
  const refuse = (e: SinchErrorAnswer) => {
    state.counters.rejected++
    answerError(res, e)
  }
  const authError = authorize(state, req, projectId)
  if (authError) return refuse(authError)

  const json = parseJson(raw)
  if (!json.ok) return refuse(invalidArgument('request body is not valid JSON'))
  const parsed = parseSendRequest(json.value)
  if (!parsed.ok) return refuse(invalidArgument(parsed.message))
  const request = parsed.value
  const app = state.apps.get(request.appId)
  if (!app || app.projectId !== projectId) return refuse(invalidArgument(`app_id: app ${request.appId} not found in project ${projectId}`))

  const contact = resolveContact(state, app, request)
  const wireRecipient = request.recipient.kind === 'identity' ? request.recipient.identity : request.recipient.contactId
  const fault = state.faults.pick(contact?.identity ?? wireRecipient)
  if (fault && applyRefusingFault(state, fault, res)) return

  const accept = () => {
    const messageId = state.nextId()
    const acceptedAt = state.now()
    record(state, app, request, json.value, messageId, wireRecipient, acceptedAt)
    sendJson(res, 200, { message_id: messageId, accepted_time: new Date(acceptedAt).toISOString() })
    scheduleDeliveries(state, { app, request, messageId, contact, forceUnreachable: fault?.kind === 'not_on_whatsapp' })
  }
  if (fault?.kind === 'slow') {
    const timer = setTimeout(() => {
      state.timers.delete(timer)
      accept()
    }, fault.delayMs ?? 1000)
    state.timers.add(timer)
    return
  }
  accept()
}

function resolveContact(state: SinchSimState, app: SinchSimApp, request: ParsedSend): SimContact | undefined {
  if (request.recipient.kind === 'contact') {
    const known = state.contactsById.get(request.recipient.contactId)
    return known?.appId === app.appId ? known : undefined
  }
  return isPhoneIdentity(request.recipient.identity) ? contactFor(state, app.appId, request.recipient.identity) : undefined
}

/** Answers (or deliberately never answers) for faults that refuse the send. True when handled. */
function applyRefusingFault(state: SinchSimState, fault: FaultRule, res: ServerResponse): boolean {
  switch (fault.kind) {
    case 'rate_limit':
    case 'pair_rate_limit':
      state.counters.faulted++
      answerError(res, resourceExhausted(1))
      return true
    case 'server_error':
      state.counters.faulted++
      // Alternate 500 INTERNAL and 503 UNAVAILABLE so both retry paths get exercised.
      answerError(res, serverError(state.serverErrorsServed++ % 2 === 0 ? 500 : 503))
      return true
    case 'timeout':
      state.counters.faulted++
      return true
    default:
      return false
  }
}

function record(
  state: SinchSimState,
  app: SinchSimApp,
  request: ParsedSend,
  body: unknown,
  messageId: string,
  to: string,
  at: number,
): void {
  // correlation_id is the field Sinch documents for a client's own reference; message_metadata is the fallback.
  const clientRef = request.correlationId ?? request.messageMetadata
  if (clientRef !== undefined && clientRef !== '') {
    if (state.seenClientRefs.has(clientRef)) state.counters.duplicates++
    state.seenClientRefs.add(clientRef)
  }
  state.counters.sent++
  state.sent.push({
    providerMessageId: messageId,
    account: app.appId,
    to,
    type: request.kind.replace(/_message$/, ''),
    body,
    ...(clientRef !== undefined && clientRef !== '' && { clientRef }),
    at,
  })
}
