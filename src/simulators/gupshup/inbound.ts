import { randomBytes } from 'node:crypto'
import type { SimulatedInbound } from '../types.js'
import { senderParts, whatsappIdFor } from './numbers.js'
import type { GupshupSentMessage } from './types.js'

/**
 * Turns a simulated contact action into the `payload` of a Gupshup `message` callback
 * (gupshup.md §2.2; fixtures inbound-*.json).
 */

export interface InboundPayload {
  id: string
  source: string
  type: string
  payload: Record<string, unknown>
  sender: { phone: string; name: string; country_code: string; dial_code: string }
  context?: Record<string, unknown>
}

/** WhatsApp message ids in Gupshup's examples look like `ABEGkY…`. */
export function inboundMessageId(): string {
  return `ABEGkY${randomBytes(18).toString('base64url')}`
}

export type InboundBuild = { ok: true; payload: InboundPayload } | { ok: false; error: string }

/** Media URLs expire; Gupshup's example gives seven days. */
const MEDIA_URL_LIFETIME_MS = 7 * 24 * 3600 * 1000

/**
 * @example
 * buildInbound({ from: '+919876543210', text: 'Hi', name: 'Andy' }, findSent, Date.now())
 * // { ok: true, payload: { id: 'ABEGkY…', source: '919876543210', type: 'text', payload: { text: 'Hi' }, sender: {…} } }
 */
export function buildInbound(
  message: SimulatedInbound,
  findSent: (id: string) => GupshupSentMessage | undefined,
  now: number,
): InboundBuild {
  // The contact writes from its WhatsApp identity: a Brazilian ninth-digit number shows up as its
  // eight-digit wa_id, which the gateway must join to the contact it already knows.
  const source = whatsappIdFor(message.from)
  if (!/^\d{8,15}$/.test(source)) return { ok: false, error: 'from must be a phone number' }
  const original = message.reply_to === undefined ? undefined : findSent(message.reply_to)
  const replyContext = message.reply_to === undefined ? undefined : contextFor(message.reply_to, original)
  const sender = { phone: source, name: message.name ?? 'Sim Contact', ...senderParts(source) }
  const base = { id: inboundMessageId(), source, sender }

  if (message.button) {
    const tapped = interactiveReply(message.button, original)
    if (tapped) return { ok: true, payload: { ...base, ...tapped, ...(replyContext && { context: replyContext }) } }
    const payload: Record<string, unknown> = { text: message.button.text, type: 'button' }
    if (message.button.payload !== undefined) payload.postbackText = message.button.payload
    // Template button taps quote the template by its WhatsApp id only.
    const context =
      message.reply_to === undefined ? undefined : { id: original?.whatsappMessageId ?? message.reply_to, forwarded: false, frequently_forwarded: false }
    return { ok: true, payload: { ...base, type: 'quick_reply', payload, ...(context && { context }) } }
  }
  if (message.media) {
    const { media } = message
    const contentType = media.mime_type ?? guessMime(media.filename ?? media.url)
    const type = mediaType(contentType)
    const payload: Record<string, unknown> = {}
    if (media.caption !== undefined) payload.caption = media.caption
    payload.url = media.url
    payload.contentType = contentType
    payload.urlExpiry = now + MEDIA_URL_LIFETIME_MS
    if (type === 'file') payload.name = media.filename ?? media.url.split('/').pop()?.split('?')[0] ?? 'file'
    return { ok: true, payload: { ...base, type, payload, ...(replyContext && { context: replyContext }) } }
  }
  if (message.text !== undefined) {
    return { ok: true, payload: { ...base, type: 'text', payload: { text: message.text }, ...(replyContext && { context: replyContext }) } }
  }
  return { ok: false, error: 'one of text, media or button is required' }
}

/** `{id: WhatsApp id, gsId: Gupshup id}` of the quoted message; ids the simulator never issued pass through. */
function contextFor(replyTo: string, original: GupshupSentMessage | undefined): Record<string, unknown> {
  if (!original) return { id: replyTo }
  return { id: original.whatsappMessageId, gsId: original.gsId }
}

interface Option {
  title: string
  description?: string
  postbackText?: string
}

/**
 * A tap on a session `quick_reply` gives `button_reply`, a row of a `list` gives `list_reply`:
 * `id` is the message's `msgid`, `reply` is the title and the 1-based option index.
 */
function interactiveReply(button: { text: string; payload?: string }, original: GupshupSentMessage | undefined) {
  if (!original || original.kind !== 'session') return undefined
  const content = original.content as { type?: string; msgid?: string; options?: Option[]; items?: Array<{ options?: Option[] }> }
  const isList = content.type === 'list'
  if (!isList && content.type !== 'quick_reply') return undefined
  const options = isList ? (content.items ?? []).flatMap((i) => i.options ?? []) : (content.options ?? [])
  const index = options.findIndex((o) => o.title === button.text || (button.payload !== undefined && o.postbackText === button.payload))
  const option = options[index]
  if (!option) return undefined
  const payload: Record<string, unknown> = { title: option.title, id: content.msgid ?? '', reply: `${option.title} ${index + 1}` }
  if (option.postbackText !== undefined) payload.postbackText = option.postbackText
  if (isList && option.description !== undefined) payload.description = option.description
  return { type: isList ? 'list_reply' : 'button_reply', payload }
}

function mediaType(contentType: string): 'image' | 'video' | 'audio' | 'sticker' | 'file' {
  if (contentType === 'image/webp') return 'sticker'
  if (contentType.startsWith('image/')) return 'image'
  if (contentType.startsWith('video/')) return 'video'
  if (contentType.startsWith('audio/')) return 'audio'
  return 'file'
}

const MIME_BY_EXTENSION: Record<string, string> = {
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
  mp4: 'video/mp4',
  '3gp': 'video/3gpp',
  ogg: 'audio/ogg',
  mp3: 'audio/mpeg',
  aac: 'audio/aac',
  pdf: 'application/pdf',
  txt: 'text/plain',
}

function guessMime(name: string): string {
  const extension = /\.([a-z0-9]+)(?:\?|$)/i.exec(name)?.[1]?.toLowerCase()
  return (extension && MIME_BY_EXTENSION[extension]) || 'application/octet-stream'
}
