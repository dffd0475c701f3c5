import { createHash } from 'node:crypto'
import { request } from 'undici'
import type { SimulatedInbound } from '../types.js'
import { newMediaId, newWamid } from './ids.js'
import type { MetaSimAccount } from './types.js'
import { secondsString } from './webhooks.js'
import { waIdFor } from './wa-id.js'

/** Media a contact sent, held until the gateway downloads it through the Graph media routes. */
export interface StoredMedia {
  id: string
  /** Phone number id of the account that received it: only its token may read it. */
  account: string
  mimeType: string
  bytes: Buffer
  /** Base64 SHA-256 of the bytes, as in the `sha256` field of webhooks (fixture webhook-image.json). */
  sha256: string
}

/**
 * The webhook `type` for a MIME type (meta.md §2.5 media types).
 *
 * @example
 * mediaTypeFor('application/pdf') // 'document'
 */
export function mediaTypeFor(mime: string): 'image' | 'video' | 'audio' | 'document' {
  if (mime.startsWith('image/')) return 'image'
  if (mime.startsWith('video/')) return 'video'
  if (mime.startsWith('audio/')) return 'audio'
  return 'document'
}

function isLoopback(url: URL): boolean {
  return url.hostname === '127.0.0.1' || url.hostname === 'localhost' || url.hostname === '[::1]'
}

/**
 * The bytes of an inbound media item: a `data:` URL is decoded, a loopback http URL is fetched,
 * anything else (the simulator never leaves the machine) becomes a few placeholder bytes.
 */
export async function loadMediaBytes(url: string): Promise<{ bytes: Buffer; mimeType?: string }> {
  const dataUrl = /^data:([^;,]*)(;base64)?,(.*)$/s.exec(url)
  if (dataUrl) {
    const payload = dataUrl[3] ?? ''
    const bytes = dataUrl[2] ? Buffer.from(payload, 'base64') : Buffer.from(decodeURIComponent(payload))
    return dataUrl[1] ? { bytes, mimeType: dataUrl[1] } : { bytes }
  }
  let parsed: URL | undefined
  try {
    parsed = new URL(url)
  } catch {
    parsed = undefined
  }
  if (parsed && parsed.protocol === 'http:' && isLoopback(parsed)) {
    try {
      const res = await request(parsed, { method: 'GET', headersTimeout: 2000, bodyTimeout: 2000 })
      const bytes = Buffer.from(await res.body.arrayBuffer())
      const type = res.headers['content-type']
      if (res.statusCode < 300) return typeof type === 'string' ? { bytes, mimeType: type.split(';')[0] } : { bytes }
    } catch {
      // fall through to placeholder bytes: a dead local URL should not break a scenario
    }
  }
  return { bytes: Buffer.from(`simulated media for ${url}`) }
}

export interface InboundBuild {
  payloadValue: Record<string, unknown>
  wamid: string
  media?: StoredMedia
}

/**
 * The `value` of a `messages` webhook for one simulated contact message (meta.md §2.4–§2.5).
 * Button wins over media, media over text.
 *
 * @example
 * const { payloadValue, wamid } = await buildInbound(account, { from: '+5511987654321', text: 'oi' })
 * // payloadValue.contacts[0].wa_id === '551187654321'
 */
export async function buildInbound(account: MetaSimAccount, message: SimulatedInbound, nowMs = Date.now()): Promise<InboundBuild> {
  const waId = waIdFor(message.from)
  const wamid = newWamid(waId)
  const entry: Record<string, unknown> = { from: waId, id: wamid, timestamp: secondsString(nowMs) }
  if (message.reply_to) entry.context = { from: account.displayPhoneNumber, id: message.reply_to }
  let media: StoredMedia | undefined
  if (message.button) {
    entry.type = 'button'
    entry.button = { text: message.button.text, payload: message.button.payload ?? message.button.text }
  } else if (message.media) {
    const loaded = await loadMediaBytes(message.media.url)
    const mimeType = message.media.mime_type ?? loaded.mimeType ?? 'application/octet-stream'
    const type = mediaTypeFor(mimeType)
    media = {
      id: newMediaId(),
      account: account.phoneNumberId,
      mimeType,
      bytes: loaded.bytes,
      sha256: createHash('sha256').update(loaded.bytes).digest('base64'),
    }
    const object: Record<string, unknown> = { mime_type: mimeType, sha256: media.sha256, id: media.id }
    const caption = message.media.caption ?? (message.text || undefined)
    if (caption !== undefined && type !== 'audio') object.caption = caption
    if (type === 'document') object.filename = message.media.filename ?? 'document'
    entry.type = type
    entry[type] = object
  } else if (message.text !== undefined) {
    entry.type = 'text'
    entry.text = { body: message.text }
  } else {
    throw new Error('a simulated inbound needs text, media or button')
  }
  const payloadValue = {
    contacts: [{ profile: { name: message.name ?? 'Simulated Contact' }, wa_id: waId }],
    messages: [entry],
  }
  return media ? { payloadValue, wamid, media } : { payloadValue, wamid }
}
