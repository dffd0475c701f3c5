import { deliveryReportCallback, type DeliveryReport, type DeliveryStatus } from './callbacks.js'
import { isUnreachableSandboxNumber } from './identity.js'
import type { ChannelProblem, ParsedSend } from './send-request.js'
import { contactKey, postCallback, type SimContact, type SinchSimState } from './state.js'
import type { SinchSimApp } from './types.js'

/** An accepted send, ready for its MESSAGE_DELIVERY callbacks. */
export interface AcceptedSend {
  app: SinchSimApp
  request: ParsedSend
  messageId: string
  /** Resolved recipient; undefined when `contact_id` named no known contact or the identity is no number. */
  contact: SimContact | undefined
  /** `not_on_whatsapp` fault injected for this send. */
  forceUnreachable: boolean
}

type Step = { status: DeliveryStatus; afterMs: number; reason?: ChannelProblem }

const NOT_REACHABLE: ChannelProblem = {
  code: 'RECIPIENT_NOT_REACHABLE',
  description: 'The underlying channel reported: the recipient is not a valid WhatsApp user',
}
const NOT_OPTED_IN: ChannelProblem = {
  code: 'RECIPIENT_NOT_OPTED_IN',
  description: 'The contact has opted out of messages on the channel',
}
const CONTACT_NOT_FOUND: ChannelProblem = { code: 'CONTACT_NOT_FOUND', description: 'Contact ID does not exist' }

/**
 * Which statuses the send will go through. Second-stage failures come straight as FAILED (Sinch
 * never hands the message to WhatsApp); a number WhatsApp does not know is first QUEUED_ON_CHANNEL,
 * then FAILED, since it is WhatsApp that refuses it.
 */
export function deliveryPlan(state: SinchSimState, send: AcceptedSend): Step[] {
  const { sentMs, deliveredMs, readMs } = state.timings
  const failNow = (reason: ChannelProblem): Step[] => [{ status: 'FAILED', afterMs: sentMs, reason }]
  if (send.request.channelProblem) return failNow(send.request.channelProblem)
  if (!send.contact) return failNow(CONTACT_NOT_FOUND)
  if (state.optedOut.has(contactKey(send.app.appId, send.contact.identity))) return failNow(NOT_OPTED_IN)
  if (send.forceUnreachable || isUnreachableSandboxNumber(send.contact.identity)) {
    return [
      { status: 'QUEUED_ON_CHANNEL', afterMs: sentMs },
      { status: 'FAILED', afterMs: deliveredMs, reason: NOT_REACHABLE },
    ]
  }
  return [
    { status: 'QUEUED_ON_CHANNEL', afterMs: sentMs },
    { status: 'DELIVERED', afterMs: deliveredMs },
    { status: 'READ', afterMs: readMs },
  ]
}

/** Schedules the MESSAGE_DELIVERY callbacks of an accepted send. */
export function scheduleDeliveries(state: SinchSimState, send: AcceptedSend): void {
  const { app, request, messageId, contact } = send
  const target = { url: request.callbackUrl ?? app.webhookUrl, ...(app.webhookSecret !== undefined && { secret: app.webhookSecret }) }
  for (const step of deliveryPlan(state, send)) {
    const report: DeliveryReport = {
      messageId,
      conversationId: contact?.conversationId ?? '',
      contactId: contact?.contactId ?? '',
      status: step.status,
      // The DOCS21 WhatsApp receipt shows the identity with `+`, the inbound samples without.
      identity: contact ? `+${contact.identity}` : request.recipient.kind === 'identity' ? request.recipient.identity : '',
      ...(step.reason && { reason: step.reason }),
    }
    const envelope = {
      appId: app.appId,
      projectId: app.projectId,
      ...(request.messageMetadata !== undefined && { messageMetadata: request.messageMetadata }),
      ...(request.correlationId !== undefined && { correlationId: request.correlationId }),
    }
    postCallback(state, target, () => deliveryReportCallback({ ...envelope, at: state.now() }, report), step.afterMs)
  }
}
