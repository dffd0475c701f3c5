import type { SimulatedInbound } from '../types.js'
import type { FormParams } from './signature.js'
import { API_VERSION, digitsOf } from './wire.js'

/**
 * Builds the form params of an inbound WhatsApp message webhook (twilio.md §2, fixtures
 * inbound_*.txt).
 */

/**
 * The WhatsApp id WhatsApp reports for a number. Brazilian mobiles written with the ninth digit
 * (+55 AA 9XXXXXXXX) are known to WhatsApp by the older eight-digit form (55 AA XXXXXXXX); every
 * other number keeps its digits.
 *
 * @example
 * whatsAppIdOf('+5535987654321') // '553587654321'
 * whatsAppIdOf('+31612345678')   // '31612345678'
 */
export function whatsAppIdOf(number: string): string {
  const digits = digitsOf(number)
  const brazilMobile = /^55(\d{2})9(\d{8})$/.exec(digits)
  return brazilMobile ? `55${brazilMobile[1]}${brazilMobile[2]}` : digits
}

export interface InboundIds {
  messageSid: string
  accountSid: string
  /** The business number receiving the message, E.164. */
  businessNumber: string
  /** Where the simulator serves media 0 (a Twilio-style Media URL), when there is media. */
  mediaUrl?: string
}

/**
 * @example
 * inboundParams({ from: '+31612345678', text: 'test' }, ids).Body // 'test'
 */
export function inboundParams(message: SimulatedInbound, ids: InboundIds): FormParams {
  const waId = whatsAppIdOf(message.from)
  const params: FormParams = {}
  const hasMedia = message.media !== undefined && ids.mediaUrl !== undefined
  if (hasMedia && message.media && ids.mediaUrl) {
    params.MediaContentType0 = message.media.mime_type ?? guessMime(message.media.url)
  }
  params.SmsMessageSid = ids.messageSid
  params.NumMedia = hasMedia ? '1' : '0'
  params.ProfileName = message.name ?? `Contact ${waId.slice(-4)}`
  params.SmsSid = ids.messageSid
  params.WaId = waId
  params.SmsStatus = 'received'
  // A tapped quick reply arrives with the button's text as Body and in ButtonText.
  params.Body = message.button?.text ?? message.text ?? message.media?.caption ?? ''
  if (message.button) {
    params.ButtonText = message.button.text
    if (message.button.payload !== undefined) params.ButtonPayload = message.button.payload
  }
  params.To = `whatsapp:${ids.businessNumber}`
  params.NumSegments = '1'
  if (message.reply_to) {
    params.OriginalRepliedMessageSender = `whatsapp:${ids.businessNumber}`
    params.OriginalRepliedMessageSid = message.reply_to
  }
  params.MessageSid = ids.messageSid
  params.AccountSid = ids.accountSid
  // WhatsApp reports the contact by its wa_id, so a Brazilian number arrives without the ninth digit.
  params.From = `whatsapp:+${waId}`
  if (hasMedia && ids.mediaUrl) params.MediaUrl0 = ids.mediaUrl
  params.ApiVersion = API_VERSION
  return params
}

const MIME_BY_EXTENSION: Record<string, string> = {
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
  gif: 'image/gif',
  pdf: 'application/pdf',
  mp4: 'video/mp4',
  ogg: 'audio/ogg',
  mp3: 'audio/mpeg',
  amr: 'audio/amr',
}

function guessMime(url: string): string {
  const extension = /\.([a-z0-9]+)(?:[?#].*)?$/i.exec(url)?.[1]?.toLowerCase()
  return (extension && MIME_BY_EXTENSION[extension]) || 'application/octet-stream'
}
