import type { StatusTimings } from '../types.js'
import type { FormParams } from './signature.js'
import type { SendRequest } from './validate.js'
import { API_VERSION, CALLBACK_ERRORS, dlrDoneDate, rfc2822 } from './wire.js'

/**
 * An accepted outbound message and the status history the simulator has planned for it. The
 * resource JSON (send response and `GET …/Messages/{sid}.json`) and the status callbacks are both
 * derived from this one record.
 */

export type MessageStatus = 'accepted' | 'queued' | 'sent' | 'delivered' | 'read' | 'failed'

export interface PlannedStatus {
  status: MessageStatus
  /** Milliseconds after creation. */
  afterMs: number
  errorCode?: number
}

export interface StoredMessage {
  sid: string
  accountSid: string
  channelInstallSid: string
  request: SendRequest
  createdAt: number
  plan: PlannedStatus[]
}

/** Why an accepted message will not be delivered, if it won't. */
export interface PlannedFailure {
  errorCode: number
}

/**
 * The statuses a message goes through after the send answer (D-OMS): with a Messaging Service the
 * initial status is `accepted` and a `queued` callback follows; without one the initial status is
 * `queued`, which gets no callback. Then `sent` → `delivered` (→ `read` on WhatsApp), or `failed`.
 *
 * @example
 * planStatuses(request, DEFAULT_STATUS_TIMINGS) // [{status:'queued',afterMs:0},{status:'sent',afterMs:20},…]
 */
export function planStatuses(request: SendRequest, timings: StatusTimings, failure?: PlannedFailure): PlannedStatus[] {
  const plan: PlannedStatus[] = [{ status: request.messagingServiceSid ? 'accepted' : 'queued', afterMs: 0 }]
  if (request.messagingServiceSid) plan.push({ status: 'queued', afterMs: Math.min(5, timings.sentMs) })
  if (failure) {
    plan.push({ status: 'failed', afterMs: timings.sentMs, errorCode: failure.errorCode })
    return plan
  }
  plan.push({ status: 'sent', afterMs: timings.sentMs })
  plan.push({ status: 'delivered', afterMs: timings.deliveredMs })
  if (request.channel === 'whatsapp') plan.push({ status: 'read', afterMs: timings.readMs })
  return plan
}

/** The latest planned status reached at `now`. */
export function currentStatus(message: StoredMessage, now: number): PlannedStatus {
  let current = message.plan[0] as PlannedStatus
  for (const step of message.plan) if (message.createdAt + step.afterMs <= now) current = step
  return current
}

/**
 * The Message resource JSON, shaped like fixture `send_response_201_queued.json`.
 *
 * @example
 * messageResource(stored, Date.now()).status // 'queued'
 */
export function messageResource(message: StoredMessage, now: number): Record<string, unknown> {
  const { request } = message
  const state = currentStatus(message, now)
  const base = `/${API_VERSION}/Accounts/${message.accountSid}/Messages/${message.sid}`
  const created = rfc2822(message.createdAt)
  return {
    account_sid: message.accountSid,
    api_version: API_VERSION,
    body: request.body ?? '',
    date_created: created,
    date_sent: request.messagingServiceSid && state.status === 'accepted' ? null : created,
    date_updated: rfc2822(message.createdAt + state.afterMs),
    direction: 'outbound-api',
    error_code: state.errorCode ?? null,
    error_message: state.errorCode !== undefined ? (CALLBACK_ERRORS[state.errorCode] ?? null) : null,
    // A Messaging Service send has no sender yet when Twilio answers (fixture send_response_201_whatsapp_scheduled).
    from: request.messagingServiceSid && state.status === 'accepted' ? null : request.from,
    num_media: String(request.mediaUrls.length),
    num_segments: request.messagingServiceSid ? '0' : '1',
    price: null,
    price_unit: null,
    messaging_service_sid: request.messagingServiceSid ?? null,
    sid: message.sid,
    status: state.status,
    subresource_uris: { media: `${base}/Media.json` },
    to: request.to,
    uri: `${base}.json`,
  }
}

/**
 * Form params of one status callback, with the fields of the captured WhatsApp callbacks
 * (fixtures status_*.txt, D-TRK): `SmsSid`/`SmsStatus` mirror `MessageSid`/`MessageStatus`,
 * WhatsApp adds `ChannelPrefix`, `ChannelInstallSid`, `ChannelToAddress`, `EventType` on
 * delivered/read and `StructuredMessage` on sent; failures carry `ErrorCode` and
 * `ChannelStatusMessage`; SMS `delivered` carries `RawDlrDoneDate`.
 *
 * @example
 * statusCallbackParams(stored, { status: 'sent', afterMs: 20 }).MessageStatus // 'sent'
 */
export function statusCallbackParams(message: StoredMessage, step: PlannedStatus): FormParams {
  const { request } = message
  const whatsapp = request.channel === 'whatsapp'
  const params: FormParams = {}
  if (step.status === 'delivered' && whatsapp) params.EventType = 'DELIVERED'
  if (step.status === 'read') params.EventType = 'READ'
  if (step.errorCode !== undefined) params.ErrorCode = String(step.errorCode)
  params.SmsSid = message.sid
  params.SmsStatus = step.status
  params.MessageStatus = step.status
  if (whatsapp) {
    params.ChannelToAddress = request.recipient
    params.ChannelPrefix = 'whatsapp'
  }
  params.To = request.to
  params.MessageSid = message.sid
  params.AccountSid = message.accountSid
  if (request.messagingServiceSid) params.MessagingServiceSid = request.messagingServiceSid
  if (whatsapp && step.status === 'sent') params.StructuredMessage = 'false'
  params.From = request.from
  params.ApiVersion = API_VERSION
  if (whatsapp) params.ChannelInstallSid = message.channelInstallSid
  if (step.errorCode !== undefined) {
    params.ChannelStatusMessage = CALLBACK_ERRORS[step.errorCode] ?? 'Unknown error'
  }
  if (!whatsapp && step.status === 'delivered') {
    params.RawDlrDoneDate = dlrDoneDate(message.createdAt + step.afterMs)
  }
  return params
}
