/**
 * Callback bodies in the shapes of the Sinch samples (sinch.md §2; fixtures inbound_*_whatsapp.json,
 * delivery_*.json, opt_out_whatsapp.json). The wire has no `trigger` field: the receiver tells
 * the kind by the top-level key.
 */

export interface CallbackEnvelope {
  appId: string
  projectId: string
  /** Unix ms when "Sinch" accepted the channel callback. */
  at: number
  messageMetadata?: string
  correlationId?: string
}

export type DeliveryStatus = 'QUEUED_ON_CHANNEL' | 'DELIVERED' | 'READ' | 'FAILED'

export interface DeliveryReport {
  messageId: string
  conversationId: string
  contactId: string
  status: DeliveryStatus
  /** As it appears on the wire; the DOCS21 WhatsApp receipt carries a `+`. */
  identity: string
  reason?: { code: string; description: string; subCode?: string }
}

const iso = (ms: number) => new Date(ms).toISOString()

function envelope(e: CallbackEnvelope): Record<string, unknown> {
  return {
    app_id: e.appId,
    accepted_time: iso(e.at),
    event_time: iso(e.at),
    project_id: e.projectId,
    message_metadata: e.messageMetadata ?? '',
    correlation_id: e.correlationId ?? '',
  }
}

/**
 * @example
 * deliveryReportCallback({ appId: 'A', projectId: 'P', at: Date.now() },
 *   { messageId: 'M', conversationId: 'C', contactId: 'K', status: 'READ', identity: '+4670' })
 */
export function deliveryReportCallback(e: CallbackEnvelope, report: DeliveryReport): Record<string, unknown> {
  return {
    ...envelope(e),
    message_delivery_report: {
      message_id: report.messageId,
      conversation_id: report.conversationId,
      status: report.status,
      channel_identity: { channel: 'WHATSAPP', identity: report.identity, app_id: '' },
      contact_id: report.contactId,
      ...(report.reason && {
        reason: {
          code: report.reason.code,
          description: report.reason.description,
          sub_code: report.reason.subCode ?? 'UNSPECIFIED_SUB_CODE',
        },
      }),
      metadata: e.messageMetadata ?? '',
      processing_mode: 'CONVERSATION',
    },
  }
}

export interface InboundMessage {
  messageId: string
  conversationId: string
  contactId: string
  /** WhatsApp identity, digits without `+`. */
  identity: string
  /** The business number the contact wrote to. */
  senderId: string
  contactMessage: Record<string, unknown>
}

/**
 * @example
 * inboundMessageCallback(env, { messageId: 'M', conversationId: 'C', contactId: 'K', identity: '4670',
 *   senderId: '15550001111', contactMessage: { text_message: { text: 'hi' } } })
 */
export function inboundMessageCallback(e: CallbackEnvelope, m: InboundMessage): Record<string, unknown> {
  return {
    ...envelope(e),
    message: {
      id: m.messageId,
      direction: 'TO_APP',
      contact_message: m.contactMessage,
      channel_identity: { channel: 'WHATSAPP', identity: m.identity, app_id: '' },
      conversation_id: m.conversationId,
      contact_id: m.contactId,
      metadata: '',
      accept_time: iso(e.at),
      sender_id: m.senderId,
      processing_mode: 'CONVERSATION',
      injected: false,
    },
  }
}

export interface OptNotification {
  optIn: boolean
  contactId: string
  identity: string
  requestId: string
}

/** OPT_IN / OPT_OUT callback, like opt_out_whatsapp.json. */
export function optNotificationCallback(e: CallbackEnvelope, n: OptNotification): Record<string, unknown> {
  const body = {
    contact_id: n.contactId,
    channel: 'WHATSAPP',
    identity: n.identity,
    status: n.optIn ? 'OPT_IN_SUCCEEDED' : 'OPT_OUT_SUCCEEDED',
    request_id: n.requestId,
  }
  return {
    app_id: e.appId,
    accepted_time: iso(e.at),
    event_time: iso(e.at),
    project_id: e.projectId,
    [n.optIn ? 'opt_in_notification' : 'opt_out_notification']: body,
  }
}
