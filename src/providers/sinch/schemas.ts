import { z } from 'zod'

/**
 * Zod views of the callback payloads wagate reads (sinch.md §2). Every field the gateway does not
 * need is left out, and enums stay open strings: Sinch adds values without notice.
 */

const optionalString = z.string().optional().catch(undefined)

export const ChannelIdentitySchema = z.object({
  channel: z.string(),
  identity: z.string(),
  app_id: optionalString,
})
export type ChannelIdentity = z.infer<typeof ChannelIdentitySchema>

const CoordinatesSchema = z.object({ latitude: z.number(), longitude: z.number() })

export const ContactMessageSchema = z.object({
  text_message: z.object({ text: z.string() }).optional(),
  media_message: z.object({ url: z.string(), thumbnail_url: optionalString, filename_override: optionalString }).optional(),
  media_card_message: z.object({ url: z.string(), caption: optionalString }).optional(),
  location_message: z.object({ coordinates: CoordinatesSchema, title: optionalString, label: optionalString }).optional(),
  choice_response_message: z.object({ message_id: optionalString, postback_data: z.string() }).optional(),
  fallback_message: z.object({ raw_message: optionalString, reason: z.unknown().optional() }).optional(),
  product_response_message: z.unknown().optional(),
  channel_specific_message: z.unknown().optional(),
  reply_to: z.object({ message_id: z.string() }).optional().catch(undefined),
})
export type ContactMessage = z.infer<typeof ContactMessageSchema>

export const InboundMessageSchema = z.object({
  id: z.string().min(1),
  direction: optionalString,
  channel_identity: ChannelIdentitySchema,
  contact_message: ContactMessageSchema,
  contact_id: optionalString,
  conversation_id: optionalString,
  accept_time: optionalString,
})
export type SinchInboundMessage = z.infer<typeof InboundMessageSchema>

export const DeliveryReportSchema = z.object({
  message_id: z.string().min(1),
  status: z.string().min(1),
  channel_identity: ChannelIdentitySchema.optional().catch(undefined),
  contact_id: optionalString,
  reason: z
    .object({ code: optionalString, description: optionalString, sub_code: optionalString })
    .optional()
    .catch(undefined),
  metadata: optionalString,
})
export type DeliveryReport = z.infer<typeof DeliveryReportSchema>

export const OptNotificationSchema = z.object({
  contact_id: optionalString,
  channel: z.string(),
  identity: z.string(),
  status: z.string(),
  request_id: optionalString,
})
export type OptNotification = z.infer<typeof OptNotificationSchema>

/** The fields every callback shares. */
export const EnvelopeSchema = z.object({
  app_id: optionalString,
  project_id: optionalString,
  accepted_time: optionalString,
  event_time: optionalString,
  correlation_id: optionalString,
  message_metadata: optionalString,
})
export type Envelope = z.infer<typeof EnvelopeSchema>

/**
 * Callback kinds by the top-level key that carries them (the wire has no `trigger` field), in the
 * order they are looked for.
 */
export const CALLBACK_KEYS = [
  'message',
  'message_delivery_report',
  'opt_in_notification',
  'opt_out_notification',
  'message_submit_notification',
  'message_redaction',
  'event',
  'event_delivery_report',
  'conversation_start_notification',
  'conversation_stop_notification',
  'conversation_delete_notification',
  'contact_create_notification',
  'contact_delete_notification',
  'contact_merge_notification',
  'contact_update_notification',
  'duplicated_identities',
  'capability_notification',
  'channel_event_notification',
  'unsupported_callback',
  'smart_conversation_notification',
  'record_notification',
] as const
export type CallbackKey = (typeof CALLBACK_KEYS)[number]
