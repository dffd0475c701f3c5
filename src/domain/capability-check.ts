import type { Capabilities } from '../providers/types.js'
import { mimeFromName, type OutboundContent } from './content.js'

/**
 * Checks content against a provider's capabilities before anything is queued, so that what the
 * provider would refuse fails at once with a normalized code and no provider call; a text over the
 * provider limit is split into ordered parts (or refused when splitting is off). Pure.
 *
 * @example
 * checkContent({ type: 'text', text: 'x'.repeat(5000) }, caps, { splitLongText: true }) // { ok: true, parts: [… 2 parts] }
 */
export type CheckResult =
  | { ok: true; parts: OutboundContent[] }
  | { ok: false; code: 'unsupported_message_type' | 'media_unsupported' | 'media_too_large' | 'text_too_long'; detail: string }

export function checkContent(content: OutboundContent, caps: Capabilities, opts: { splitLongText: boolean }): CheckResult {
  if (!caps.types.includes(content.type)) {
    return { ok: false, code: 'unsupported_message_type', detail: `this provider cannot send ${content.type} messages (it sends ${caps.types.join(', ')})` }
  }
  if (content.type === 'text') {
    if (content.text.length <= caps.textMaxLength) return { ok: true, parts: [content] }
    if (!opts.splitLongText) {
      return { ok: false, code: 'text_too_long', detail: `text is ${content.text.length} characters; this provider takes at most ${caps.textMaxLength} (splitting is off for this account)` }
    }
    const parts = splitText(content.text, caps.textMaxLength)
    if (parts.length === 0) return { ok: false, code: 'text_too_long', detail: `text is ${content.text.length} characters of white space only; this provider takes at most ${caps.textMaxLength}` }
    return { ok: true, parts: parts.map((text) => ({ ...content, text })) }
  }
  if ('media' in content) {
    const limit = caps.media[content.type]
    if (!limit) return { ok: false, code: 'unsupported_message_type', detail: `this provider cannot send ${content.type} media` }
    const mime = content.media.mime_type ?? mimeFromName(content.media.filename) ?? mimeFromName(content.media.url)
    if (mime && !limit.mimeTypes.includes(mime.toLowerCase())) {
      return { ok: false, code: 'media_unsupported', detail: `${mime} is not accepted as ${content.type} by this provider (accepted: ${limit.mimeTypes.join(', ')})` }
    }
    if (content.media.size !== undefined && content.media.size > limit.maxBytes) {
      return { ok: false, code: 'media_too_large', detail: `${content.media.size} bytes is over the ${limit.maxBytes}-byte limit for ${content.type}` }
    }
    if (content.media.caption && content.media.caption.length > caps.captionMaxLength) {
      return { ok: false, code: 'text_too_long', detail: `caption is ${content.media.caption.length} characters; this provider takes at most ${caps.captionMaxLength}` }
    }
  }
  return { ok: true, parts: [content] }
}

/**
 * Splits text into parts of at most `max` characters, preferring paragraph, then line, then word
 * boundaries, never splitting a surrogate pair. Joining the parts gives back the text, up to the
 * white space at the cut points.
 */
export function splitText(text: string, max: number): string[] {
  if (!(max >= 1)) throw new RangeError(`splitText needs a limit of at least 1 character (got ${max})`)
  const parts: string[] = []
  let rest = text
  while (rest.length > max) {
    const window = rest.slice(0, max)
    let cut = window.lastIndexOf('\n\n')
    if (cut < max / 2) cut = window.lastIndexOf('\n')
    if (cut < max / 2) cut = window.lastIndexOf(' ')
    if (cut < max / 2) cut = max
    // Keep a surrogate pair whole; only a 1-character limit leaves no other way forward.
    const code = rest.charCodeAt(cut - 1)
    if (cut > 1 && code >= 0xd800 && code <= 0xdbff) cut -= 1
    // A window of nothing but white space would give an empty part, which no provider sends.
    const part = rest.slice(0, cut).trimEnd()
    if (part.length > 0) parts.push(part)
    rest = rest.slice(cut).replace(/^\s+/, '')
  }
  if (rest.length > 0) parts.push(rest)
  return parts
}

/** True for URLs whose host is a loopback, private, link-local or unspecified address literal. */
export function isPrivateUrl(value: string): boolean {
  let host: string
  try {
    host = new URL(value).hostname.toLowerCase()
  } catch {
    return false
  }
  // `localhost.` (fully qualified) resolves like `localhost`.
  host = host.replace(/^\[|\]$/g, '').replace(/\.$/, '')
  if (host === 'localhost' || host.endsWith('.localhost') || host.endsWith('.internal')) return true
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host)
  if (v4) {
    const [a, b] = [Number(v4[1]), Number(v4[2])]
    return a === 10 || a === 127 || a === 0 || (a === 169 && b === 254) || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 100 && b >= 64 && b <= 127)
  }
  if (host.includes(':')) {
    return host === '::1' || host === '::' || host.startsWith('fc') || host.startsWith('fd') || /^fe[89ab]/.test(host) || host.startsWith('::ffff:')
  }
  return false
}
