import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mimeFromName, type MediaKind } from '../../src/domain/content.js'
import type { ProviderId } from '../../src/providers/types.js'
import type { SentRecord, Simulator } from '../../src/simulators/types.js'
import { startTestGateway, type TestGateway } from '../harness/gateway.js'

/**
 * What each provider cannot take is refused at the API, before anything is queued or sent; what is
 * too long for it is split into ordered parts. Run against every sandbox account.
 */

type Json = Record<string, any>

interface Case {
  account: string
  provider: ProviderId
  /** The text a simulator received, read from the wire body as the provider doc describes it. */
  wireText(record: SentRecord): string | undefined
}

const CASES: Case[] = [
  // meta.md §1: {"type":"text","text":{"body":"…"}}
  { account: 'sandbox-meta', provider: 'meta', wireText: (r) => (r.body as Json).text?.body },
  // twilio.md §1: form field Body
  { account: 'sandbox-twilio', provider: 'twilio', wireText: (r) => (r.body as Json).Body },
  // sinch.md §1: message.text_message.text
  { account: 'sandbox-sinch', provider: 'sinch', wireText: (r) => (r.body as Json).message?.text_message?.text },
  // gupshup.md §1.1: `message` JSON {"type":"text","text":"…"}
  { account: 'sandbox-gupshup', provider: 'gupshup', wireText: (r) => (r.body as Json).message?.text },
]

interface MediaCase {
  label: string
  kind: MediaKind
  url: string
  filename?: string
  /**
   * What the provider docs settle, where they do: WhatsApp images are jpeg/png only (meta.md §4,
   * sinch.md §5; Twilio's gif is MMS), no provider lists audio/wav, and Meta's (so also Gupshup's,
   * which passes WhatsApp's limits through) document list has msword but no executables. Where a
   * doc is silent or open ("any document MIME", sinch.md §5), the adapter's capabilities decide.
   */
  refusedBy: Partial<Record<ProviderId, boolean>>
}

const MEDIA: MediaCase[] = [
  { label: 'a GIF image', kind: 'image', url: 'https://media.example.com/fun/dance.gif', refusedBy: { meta: true, twilio: true, sinch: true, gupshup: true } },
  { label: 'a .doc document', kind: 'document', url: 'https://media.example.com/docs/letter.doc', filename: 'letter.doc', refusedBy: { meta: false, sinch: false, gupshup: false } },
  { label: 'a .wav audio', kind: 'audio', url: 'https://media.example.com/voice/memo.wav', refusedBy: { meta: true, twilio: true, sinch: true, gupshup: true } },
  { label: 'an .exe document', kind: 'document', url: 'https://media.example.com/bin/setup.exe', filename: 'setup.exe', refusedBy: { meta: true, gupshup: true } },
]

let t: TestGateway
let seq = 0
const nextRecipient = () => `+1415555${String(4000 + ++seq)}`

beforeAll(async () => {
  t = await startTestGateway()
})
afterAll(async () => t?.close())

describe.each(CASES)('$account capabilities', (c) => {
  const sim = (): Simulator => {
    const account = t.sandbox.accounts.find((a) => a.row.name === c.account)
    const found = account && t.sandbox.simulators.get(account.row.id)
    if (!found) throw new Error(`no simulator for ${c.account}`)
    return found
  }
  const caps = () => {
    const found = t.gw.registry.get(c.provider)?.capabilities('whatsapp')
    if (!found) throw new Error(`no adapter ${c.provider}`)
    return found
  }
  const getMessage = async (id: string) => (await t.api('GET', `/v1/messages/${id}`)).json as Json

  it.each(MEDIA)('$label: refused before any provider call when the provider does not take it', async (m) => {
    const mime = mimeFromName(m.filename ?? m.url) ?? ''
    const limit = caps().media[m.kind]
    const refusedByCaps = !limit?.mimeTypes.includes(mime)
    const documented = m.refusedBy[c.provider]
    if (documented !== undefined) expect(refusedByCaps, `${c.provider} capabilities vs its doc for ${mime}`).toBe(documented)

    const to = nextRecipient()
    const sentBefore = sim().sent().length
    const requestsBefore = sim().stats().requests
    const res = await t.api('POST', '/v1/messages', { account: c.account, to, type: m.kind, media: { url: m.url, ...(m.filename ? { filename: m.filename } : {}) } })

    if (refusedByCaps) {
      expect(res.status).toBe(422)
      expect(res.json.code).toBe('media_unsupported')
      expect(res.json.detail).toContain(mime)
      expect(sim().sent().length).toBe(sentBefore)
      expect(sim().stats().requests).toBe(requestsBefore)
      const listed = await t.api('GET', `/v1/messages?account=${c.account}&direction=out&limit=50`)
      expect((listed.json.data as Json[]).some((x) => x.to === `tel:${to}`)).toBe(false)
      return
    }
    expect(res.status).toBe(202)
    const done = await t.waitFor(async () => {
      const msg = await getMessage(res.json.id)
      return msg.provider_message_id ? msg : undefined
    }, 15_000, `${c.account} ${m.label} sent`)
    expect(sim().sent().some((r) => r.providerMessageId === done.provider_message_id)).toBe(true)
  })

  it('a 20,000-character text arrives as ordered parts within the provider limit', async () => {
    const max = caps().textMaxLength
    const text = longText(20_000)
    expect(text.length).toBe(20_000)
    const to = nextRecipient()
    const res = await t.api('POST', '/v1/messages', { account: c.account, to, type: 'text', text })
    expect(res.status).toBe(202)
    const parts = res.json.parts as string[]
    expect(Array.isArray(parts)).toBe(true)
    expect(parts.length).toBeGreaterThanOrEqual(Math.ceil(20_000 / max))
    expect(parts[0]).toBe(res.json.id)

    const messages = await t.waitFor(async () => {
      const all = await Promise.all(parts.map(getMessage))
      return all.every((m) => m.provider_message_id) ? all : undefined
    }, 30_000, `${c.account} all parts sent`)
    for (const [i, m] of messages.entries()) expect(m.metadata).toMatchObject({ part: i + 1, parts })

    // The simulator got them in order, each within the limit.
    const providerIds = messages.map((m) => m.provider_message_id as string)
    const received = sim()
      .sent()
      .filter((r) => providerIds.includes(r.providerMessageId))
    expect(received.map((r) => r.providerMessageId)).toEqual(providerIds)
    const texts = received.map((r) => c.wireText(r) ?? '')
    for (const part of texts) {
      expect(part.length).toBeGreaterThan(0)
      expect(part.length).toBeLessThanOrEqual(max)
      expect(part).toBe(part.trim())
    }
    // Joined they give back the text, up to the white space at each cut.
    expect(texts.join('').replace(/\s+/g, '')).toBe(text.replace(/\s+/g, ''))
    expect(texts.join(' ').replace(/\s+/g, ' ')).toBe(text.replace(/\s+/g, ' '))
  })
})

/** Words of varied length, sentences and paragraphs, with a few emoji (surrogate pairs) mixed in. */
function longText(length: number): string {
  const words = ['lorem', 'ipsum', 'dolor', 'sit', 'amet', 'consectetur', 'adipiscing', 'elit', '🙂', 'sed', 'do', 'eiusmod', 'tempor', 'incididunt', 'ut', 'labore', 'et', 'dolore', 'magna', 'aliqua', '🚀🚀']
  let out = ''
  let i = 0
  while (out.length < length) {
    const word = words[(i * 7 + (i >> 3)) % words.length] as string
    out += word
    i++
    out += i % 97 === 0 ? '\n\n' : i % 13 === 0 ? '.\n' : ' '
  }
  // Cut to the exact length without leaving half of a surrogate pair or trailing white space.
  let cut = out.slice(0, length)
  while (/[\s\ud800-\udbff]$/.test(cut)) cut = cut.slice(0, -1)
  return cut.padEnd(length, 'x')
}
