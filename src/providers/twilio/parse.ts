import { z } from 'zod'
import type { MediaKind } from '../../domain/content.js'
import type { AccountContext, InboundMessage, Party, ProviderStatus, RawRequest, WebhookItem } from '../types.js'
import { partyFromAddress, stripChannelPrefix, waIdOf } from './addresses.js'
import type { TwilioConfig } from './config.js'
import { normalizeTwilioError } from './errors.js'
import { decodeForm, firstValues, rawParams } from './params.js'

/**
 * Parses Twilio Messaging webhooks (twilio.md §2, §3): status callbacks (they carry `MessageStatus`)
 * and inbound messages. Twilio callbacks carry no event time, so `timestamp` is the time of parsing.
 * Unknown parameters are ignored ("Twilio will occasionally add new parameters").
 */

const optionalText = z.string().optional()
const TwilioParamsSchema = z.object({
  MessageSid: optionalText,
  SmsMessageSid: optionalText,
  SmsSid: optionalText,
  MessageStatus: optionalText,
  ErrorCode: optionalText,
  ErrorMessage: optionalText,
  ChannelStatusMessage: optionalText,
  From: optionalText,
  To: optionalText,
  ChannelToAddress: optionalText,
  Body: optionalText,
  NumMedia: optionalText,
  MediaUrl0: optionalText,
  MediaContentType0: optionalText,
  WaId: optionalText,
  ProfileName: optionalText,
  ExternalUserId: optionalText,
  ButtonText: optionalText,
  ButtonPayload: optionalText,
  Latitude: optionalText,
  Longitude: optionalText,
  Address: optionalText,
  Label: optionalText,
  OriginalRepliedMessageSid: optionalText,
  OriginalRepliedMessageSender: optionalText,
  Forwarded: optionalText,
  OptOutType: optionalText,
})
type TwilioParams = z.infer<typeof TwilioParamsSchema>

/** Twilio's status words (OAI `message_enum_status`) → the normalized vocabulary. */
const STATUS_MAP: Readonly<Record<string, ProviderStatus>> = {
  accepted: 'accepted',
  scheduled: 'accepted',
  queued: 'queued',
  sending: 'queued',
  sent: 'sent',
  delivered: 'delivered',
  // Delivered to some but not all recipients (group MMS): at least it left Twilio.
  partially_delivered: 'sent',
  read: 'read',
  failed: 'failed',
  undelivered: 'failed',
  canceled: 'failed',
}

/** Inbound-direction status words: such a request is a message, not a callback about ours. */
const INBOUND_STATUSES = new Set(['received', 'receiving'])

/**
 * Default SMS keywords Twilio acts on for long codes when the whole body is the keyword, any case
 * (twilio.com/docs/messaging/tutorials/advanced-opt-out; support article on `OptOutType`).
 * WhatsApp gets opt-out handling only through a Messaging Service, which then sends `OptOutType`.
 */
const SMS_OPT_OUT_KEYWORDS = new Set(['STOP', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT', 'REVOKE', 'OPTOUT'])
const SMS_OPT_IN_KEYWORDS = new Set(['START', 'UNSTOP'])

/**
 * @example
 * parseTwilioRequest(account, req) // [{ kind: 'message', message: { providerMessageId: 'SM…', text: 'test', … } }]
 */
export function parseTwilioRequest(account: AccountContext<TwilioConfig>, req: RawRequest): WebhookItem[] {
  try {
    const contentType = req.headers['content-type'] ?? ''
    if (/json/i.test(contentType)) return [{ kind: 'ignored', reason: 'JSON webhook: not a Messaging callback' }]
    const decoded = decodeForm(req.body)
    const parsed = TwilioParamsSchema.safeParse(firstValues(decoded))
    if (!parsed.success) return [{ kind: 'rejected', reason: 'unreadable form parameters' }]
    const p = parsed.data
    const raw = rawParams(decoded)
    const now = Date.now()

    const messageSid = nonEmpty(p.MessageSid) ?? nonEmpty(p.SmsMessageSid) ?? nonEmpty(p.SmsSid)
    const statusWord = nonEmpty(p.MessageStatus)?.toLowerCase()
    if (statusWord !== undefined && !INBOUND_STATUSES.has(statusWord)) {
      if (messageSid === undefined) return [{ kind: 'rejected', reason: 'status callback without MessageSid' }]
      return statusItems(p, messageSid, statusWord, now, raw)
    }
    if (messageSid !== undefined && nonEmpty(p.From) !== undefined) return inboundItems(account, p, messageSid, now, raw)
    return [{ kind: 'ignored', reason: 'neither a status callback nor an inbound message' }]
  } catch (err) {
    return [{ kind: 'rejected', reason: `parse error: ${err instanceof Error ? err.message : String(err)}` }]
  }
}

function statusItems(p: TwilioParams, sid: string, word: string, now: number, raw: unknown): WebhookItem[] {
  // Own keys only: a MessageStatus of `__proto__` or `constructor` must not find Object.prototype's.
  const status = Object.hasOwn(STATUS_MAP, word) ? STATUS_MAP[word] : undefined
  if (status === undefined) return [{ kind: 'ignored', reason: `unknown MessageStatus '${word}'` }]
  const recipient = recipientOf(p)
  const address = addressOf(p.From)
  const errorCode = nonEmpty(p.ErrorCode)
  const error =
    errorCode !== undefined && errorCode !== '0'
      ? normalizeTwilioError(errorCode, nonEmpty(p.ErrorMessage) ?? nonEmpty(p.ChannelStatusMessage))
      : undefined
  const items: WebhookItem[] = [
    {
      kind: 'status',
      status: {
        providerMessageId: sid,
        status,
        providerStatus: word,
        timestamp: now,
        recipient,
        ...(error !== undefined ? { error } : {}),
        ...(address !== undefined ? { address } : {}),
        raw,
      },
    },
  ]
  // 21610 means the recipient sent STOP earlier; courier raises an opt-out for `To` (twilio.md §3).
  if (errorCode === '21610' && (recipient.phone !== undefined || recipient.userId !== undefined)) {
    items.push({ kind: 'contact', event: { type: 'opted_out', contact: recipient, timestamp: now, ...(address ? { address } : {}), raw } })
  }
  return items
}

function recipientOf(p: TwilioParams): Party {
  const fromTo = partyFromAddress(nonEmpty(p.To))
  if (fromTo.phone !== undefined || fromTo.userId !== undefined) return fromTo
  return partyFromAddress(nonEmpty(p.ChannelToAddress))
}

function inboundItems(account: AccountContext<TwilioConfig>, p: TwilioParams, sid: string, now: number, raw: unknown): WebhookItem[] {
  const from = senderOf(p)
  if (from.phone === undefined && from.waId === undefined && from.userId === undefined) {
    return [{ kind: 'rejected', reason: 'inbound message without a readable sender' }]
  }
  const address = addressOf(p.To)
  const message: InboundMessage = {
    providerMessageId: sid,
    from,
    timestamp: now,
    type: 'text',
    ...(p.Body !== undefined ? { text: p.Body } : {}),
    ...(address !== undefined ? { address } : {}),
    raw,
  }
  describeContent(message, p)
  const context = contextOf(p)
  if (context !== undefined) message.context = context

  const items: WebhookItem[] = [{ kind: 'message', message }]
  const optType = optOutTypeOf(account, p)
  if (optType !== undefined) items.push({ kind: 'contact', event: { type: optType, contact: from, timestamp: now, ...(address ? { address } : {}), raw } })
  return items
}

function senderOf(p: TwilioParams): Party {
  const party: Party = { ...partyFromAddress(nonEmpty(p.From)) }
  const waId = waIdOf(nonEmpty(p.WaId))
  if (waId !== undefined) party.waId = waId
  // `ExternalUserId=whatsapp:US.1234` is a second identity: the business-scoped user id.
  const external = partyFromAddress(nonEmpty(p.ExternalUserId)).userId
  if (external !== undefined && party.userId === undefined) party.userId = external
  const name = nonEmpty(p.ProfileName)
  if (name !== undefined) party.name = name
  return party
}

/** Sets type/button/location/media from the most specific content present. */
function describeContent(message: InboundMessage, p: TwilioParams): void {
  const buttonText = nonEmpty(p.ButtonText)
  const buttonPayload = nonEmpty(p.ButtonPayload)
  if (buttonText !== undefined || buttonPayload !== undefined) {
    // courier uses ButtonText as the text when present (twilio.md §2).
    const text = buttonText ?? buttonPayload ?? ''
    message.type = 'button'
    message.text = text
    message.button = { text, ...(buttonPayload !== undefined ? { payload: buttonPayload } : {}) }
    return
  }
  const latitude = coordinate(p.Latitude, 90)
  const longitude = coordinate(p.Longitude, 180)
  if (latitude !== undefined && longitude !== undefined) {
    const name = nonEmpty(p.Label)
    const address = nonEmpty(p.Address)
    message.type = 'location'
    message.location = { latitude, longitude, ...(name !== undefined ? { name } : {}), ...(address !== undefined ? { address } : {}) }
    return
  }
  const numMedia = Number(p.NumMedia ?? '0')
  const url = nonEmpty(p.MediaUrl0)
  if (Number.isInteger(numMedia) && numMedia > 0 && url !== undefined) {
    const mime = nonEmpty(p.MediaContentType0)
    const caption = nonEmpty(p.Body)
    message.type = mediaKindOf(mime)
    message.media = { url, ...(mime !== undefined ? { mime_type: mime } : {}), ...(caption !== undefined ? { caption } : {}) }
  }
}

function mediaKindOf(mime: string | undefined): MediaKind {
  const type = (mime ?? '').toLowerCase()
  // Twilio says image/webp is used only for WhatsApp stickers.
  if (type === 'image/webp') return 'sticker'
  if (type.startsWith('image/')) return 'image'
  if (type.startsWith('audio/')) return 'audio'
  if (type.startsWith('video/')) return 'video'
  return 'document'
}

function contextOf(p: TwilioParams): InboundMessage['context'] {
  const id = nonEmpty(p.OriginalRepliedMessageSid)
  const sender = nonEmpty(p.OriginalRepliedMessageSender)
  const forwarded = p.Forwarded?.toLowerCase() === 'true'
  if (id === undefined && !forwarded) return undefined
  return {
    ...(id !== undefined ? { id } : {}),
    ...(sender !== undefined ? { from: stripChannelPrefix(sender) } : {}),
    ...(forwarded ? { forwarded: true } : {}),
  }
}

function optOutTypeOf(account: AccountContext<TwilioConfig>, p: TwilioParams): 'opted_out' | 'opted_in' | undefined {
  const declared = nonEmpty(p.OptOutType)?.toUpperCase()
  if (declared === 'STOP') return 'opted_out'
  if (declared === 'START') return 'opted_in'
  if (declared !== undefined || account.channel !== 'sms') return undefined
  const keyword = (p.Body ?? '').trim().toUpperCase()
  if (SMS_OPT_OUT_KEYWORDS.has(keyword)) return 'opted_out'
  if (SMS_OPT_IN_KEYWORDS.has(keyword)) return 'opted_in'
  return undefined
}

function coordinate(value: string | undefined, limit: number): number | undefined {
  if (value === undefined || value.trim() === '') return undefined
  const n = Number(value)
  return Number.isFinite(n) && Math.abs(n) <= limit ? n : undefined
}

function addressOf(value: string | undefined): string | undefined {
  return partyFromAddress(nonEmpty(value)).phone
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value
}
