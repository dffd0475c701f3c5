import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { Capabilities } from '../providers/types.js'
import { checkContent, isPrivateUrl, splitText } from './capability-check.js'
import type { OutboundContent } from './content.js'

/** A provider shaped like Meta's (providers/meta.md: text 4096, caption 1024, image 5 MB jpeg/png). */
const caps: Capabilities = {
  types: ['text', 'image', 'document', 'audio', 'template', 'location'],
  media: {
    image: { mimeTypes: ['image/jpeg', 'image/png'], maxBytes: 5 * 1024 * 1024 },
    document: { mimeTypes: ['application/pdf', 'text/plain'], maxBytes: 100 * 1024 * 1024 },
  },
  textMaxLength: 4096,
  captionMaxLength: 1024,
  userIdRecipients: true,
}
const split = { splitLongText: true }

/** Replays the parts over the text: each part appears in order, separated only by white space. */
function coversText(text: string, parts: string[]): boolean {
  let pos = 0
  for (const part of parts) {
    // White space at a cut (or a leading run of it) is dropped; a first part may keep its own.
    if (!text.startsWith(part, pos)) while (pos < text.length && /\s/.test(text[pos] as string)) pos++
    if (!text.startsWith(part, pos)) return false
    pos += part.length
  }
  return /^\s*$/.test(text.slice(pos))
}

const isHigh = (c: number) => c >= 0xd800 && c <= 0xdbff
const isLow = (c: number) => c >= 0xdc00 && c <= 0xdfff

/** Text rich in cut candidates: words, spaces, newlines, paragraphs and astral characters. */
const prose = fc
  .array(
    fc.oneof(
      { weight: 5, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 12 }) },
      { weight: 3, arbitrary: fc.constantFrom(' ', '\n', '\n\n', '  ', ' \n') },
      { weight: 2, arbitrary: fc.constantFrom('😀', '𝄞𝄞', '👩‍👩‍👧', 'é') },
    ),
    { maxLength: 120 },
  )
  .map((xs) => xs.join(''))

describe('splitText', () => {
  it('returns short text as is', () => {
    expect(splitText('hello', 10)).toEqual(['hello'])
    expect(splitText('', 10)).toEqual([])
  })

  it('prefers a paragraph break, then a line break, then a space', () => {
    expect(splitText('aaaa bbbb\n\ncccc', 12)).toEqual(['aaaa bbbb', 'cccc'])
    expect(splitText('aaaa\nbbbb cc', 11)).toEqual(['aaaa\nbbbb', 'cc'])
    expect(splitText('aaaa bbbb cccc', 12)).toEqual(['aaaa bbbb', 'cccc'])
  })

  it('cuts a word in two only when there is no break in the second half of the window', () => {
    expect(splitText('abcdefghij', 4)).toEqual(['abcd', 'efgh', 'ij'])
    expect(splitText('a bcdefghij', 4)).toEqual(['a bc', 'defg', 'hij'])
  })

  it('never ends a part on half of a surrogate pair', () => {
    expect(splitText('abc😀def', 4)).toEqual(['abc', '😀de', 'f'])
  })

  it('gives no empty part for a run of white space', () => {
    expect(splitText(`${' '.repeat(10)}${'x'.repeat(10)}`, 8)).toEqual(['xxxxxxxx', 'xx'])
    expect(splitText(' '.repeat(20), 8)).toEqual([])
  })

  it('terminates with a 1-character limit, and refuses a limit below 1', () => {
    expect(splitText('😀😀', 1)).toHaveLength(4)
    expect(() => splitText('abc', 0)).toThrow(RangeError)
  })

  it('keeps every part within max, non-empty, in order, losing only white space at cuts, never splitting a pair (property)', () => {
    fc.assert(
      fc.property(prose, fc.integer({ min: 2, max: 60 }), (text, max) => {
        const parts = splitText(text, max)
        for (const part of parts) {
          expect(part.length).toBeGreaterThan(0)
          expect(part.length).toBeLessThanOrEqual(max)
          expect(isHigh(part.charCodeAt(part.length - 1))).toBe(false)
          expect(isLow(part.charCodeAt(0))).toBe(false)
        }
        expect(coversText(text, parts)).toBe(true)
        // Nothing but white space may disappear
        expect(parts.join('').replace(/\s/g, '')).toBe(text.replace(/\s/g, ''))
      }),
      { numRuns: 2000 },
    )
  })
})

describe('checkContent', () => {
  it('refuses a type the provider cannot send', () => {
    const r = checkContent({ type: 'video', media: { url: 'https://example.com/a.mp4' } }, caps, split)
    expect(r).toMatchObject({ ok: false, code: 'unsupported_message_type' })
    const reaction = checkContent({ type: 'reaction', reaction: { message_id: 'msg_1', emoji: '👍' } }, caps, split)
    expect(reaction).toMatchObject({ ok: false, code: 'unsupported_message_type' })
  })

  it('refuses a media kind listed in types but without limits', () => {
    expect(checkContent({ type: 'audio', media: { url: 'https://example.com/a.ogg' } }, caps, split)).toMatchObject({ ok: false, code: 'unsupported_message_type' })
  })

  it('passes text within the limit as one part', () => {
    const content: OutboundContent = { type: 'text', text: 'x'.repeat(4096), preview_url: true }
    expect(checkContent(content, caps, split)).toEqual({ ok: true, parts: [content] })
  })

  it('splits text over the limit, keeping the other fields on each part', () => {
    const text = `${'a'.repeat(3000)} ${'b'.repeat(3000)}`
    const r = checkContent({ type: 'text', text, preview_url: false }, caps, split)
    expect(r).toEqual({ ok: true, parts: [{ type: 'text', text: 'a'.repeat(3000), preview_url: false }, { type: 'text', text: 'b'.repeat(3000), preview_url: false }] })
  })

  it('refuses text over the limit with text_too_long when splitting is off', () => {
    const r = checkContent({ type: 'text', text: 'x'.repeat(4097) }, caps, { splitLongText: false })
    expect(r).toMatchObject({ ok: false, code: 'text_too_long' })
    if (!r.ok) expect(r.detail).toContain('4096')
  })

  it('refuses a long text of white space only rather than sending nothing', () => {
    expect(checkContent({ type: 'text', text: ' '.repeat(5000) }, caps, split)).toMatchObject({ ok: false, code: 'text_too_long' })
  })

  it.each([
    ['declared mime_type', { url: 'https://example.com/a.jpg', mime_type: 'image/gif' }, 'media_unsupported'],
    ['declared mime_type in upper case', { url: 'https://example.com/a', mime_type: 'IMAGE/PNG' }, null],
    ['URL extension', { url: 'https://example.com/pic.webp?size=2' }, 'media_unsupported'],
    ['filename over URL', { url: 'https://example.com/a.jpg', filename: 'a.gif' }, 'media_unsupported'],
    ['accepted URL extension', { url: 'https://example.com/pic.PNG#x' }, null],
    ['unknown extension is left to the provider', { url: 'https://example.com/render' }, null],
    ['Object.prototype key as extension', { url: 'https://example.com/a.constructor' }, null],
    ['size over the limit', { url: 'https://example.com/a.jpg', size: 5 * 1024 * 1024 + 1 }, 'media_too_large'],
    ['size at the limit', { url: 'https://example.com/a.jpg', size: 5 * 1024 * 1024 }, null],
    ['caption over the limit', { url: 'https://example.com/a.jpg', caption: 'c'.repeat(1025) }, 'text_too_long'],
    ['caption at the limit', { url: 'https://example.com/a.jpg', caption: 'c'.repeat(1024) }, null],
    ['media id without a mime', { id: '1234567890' }, null],
  ] as const)('image with %s', (_name, media, code) => {
    const r = checkContent({ type: 'image', media: { ...media } }, caps, split)
    if (code === null) expect(r.ok).toBe(true)
    else expect(r).toMatchObject({ ok: false, code })
  })

  it('passes templates and locations through unchanged', () => {
    const t: OutboundContent = { type: 'template', template: { name: 'hello', language: 'en' } }
    expect(checkContent(t, caps, split)).toEqual({ ok: true, parts: [t] })
    const l: OutboundContent = { type: 'location', location: { latitude: 1, longitude: 2 } }
    expect(checkContent(l, caps, split)).toEqual({ ok: true, parts: [l] })
  })
})

describe('isPrivateUrl', () => {
  it.each([
    ['http://127.0.0.1/a.jpg', true],
    ['http://127.1.2.3:8080/', true],
    ['http://2130706433/', true], // 127.0.0.1 as one number, normalized by the URL parser
    ['http://0x7f.1/', true],
    ['http://0.0.0.0/', true],
    ['http://10.0.0.1/', true],
    ['http://10.255.255.255/', true],
    ['http://172.16.0.1/', true],
    ['http://172.31.255.255/', true],
    ['http://172.15.0.1/', false],
    ['http://172.32.0.1/', false],
    ['http://192.168.1.1/', true],
    ['http://192.169.1.1/', false],
    ['http://169.254.169.254/latest/meta-data', true],
    ['http://100.64.0.1/', true],
    ['http://100.128.0.1/', false],
    ['http://[::1]/', true],
    ['http://[::]/', true],
    ['http://[fd00::1]/', true],
    ['http://[fc00::1]/', true],
    ['http://[fe80::1]/', true],
    ['http://[febf::1]/', true],
    ['http://[fec0::1]/', false],
    ['http://[::ffff:127.0.0.1]/', true],
    ['http://[2001:4860:4860::8888]/', false],
    ['http://localhost/', true],
    ['http://LOCALHOST:3000/', true],
    ['http://localhost./', true],
    ['http://api.localhost/', true],
    ['http://metadata.google.internal/', true],
    ['https://example.com/a.jpg', false],
    ['https://8.8.8.8/', false],
    ['https://cdn.example.com.br/x', false],
    ['https://10.example.com/', false],
    ['https://localhost.example.com/', false],
    ['not a url', false],
    ['', false],
  ] as const)('%s → %s', (url, expected) => {
    expect(isPrivateUrl(url)).toBe(expected)
  })
})
