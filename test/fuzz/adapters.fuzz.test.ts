import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { createRegistry, type AnyAdapter } from '../../src/providers/registry.js'
import type { ProviderId, RawRequest, WebhookItem } from '../../src/providers/types.js'
import { readFixture } from '../harness/fixtures.js'
import { damagedBytes, hostileScalar, mutatedForm, mutatedJson } from './mutate.js'
import { encodeForm, fuzzProviders, itemProblem, sha256Hex, sinchSignature, type FuzzProvider } from './providers.js'

/**
 * Issue 7, fuzzing: every registered adapter's `verify` and `parse` on hostile input — random
 * bytes, arbitrary JSON, the real captured webhooks mutated in a few places, arbitrary headers and
 * URLs. Nothing may throw (hostile input becomes `rejected` / `ignored` items or a failed verdict),
 * a forged signature never verifies while a correct one over the same bytes does, and every item
 * `parse` returns is something the inbound pipeline can store (ids, a sender whose ids are usable,
 * a time a Date can hold).
 * Run counts are bounded so the file stays well under 20 s on a loaded machine.
 */

const registry = createRegistry()
/** Runs per property; WAGATE_FUZZ_RUNS digs deeper on demand (the default keeps the file fast). */
const RUNS = Number(process.env.WAGATE_FUZZ_RUNS ?? 100)

/** parse must not throw, and each item must be well-formed. */
function parseChecked(adapter: AnyAdapter, p: FuzzProvider, req: RawRequest): WebhookItem[] {
  let items: WebhookItem[] = []
  expect(() => {
    items = adapter.parse(p.account(adapter), req)
  }).not.toThrow()
  expect(Array.isArray(items)).toBe(true)
  for (const item of items) expect(itemProblem(item), JSON.stringify(item, null, 0)?.slice(0, 400)).toBeUndefined()
  // The pipeline stores items as JSON; a cycle or a BigInt would fail there.
  expect(() => JSON.stringify(items)).not.toThrow()
  return items
}

function verifyChecked(adapter: AnyAdapter, p: FuzzProvider, req: RawRequest): boolean {
  let ok = false
  expect(() => {
    const verdict = adapter.verify(p.account(adapter), req)
    ok = verdict.ok
    if (!verdict.ok) expect(typeof verdict.reason).toBe('string')
  }).not.toThrow()
  return ok
}

/** A mutated fixture body, in the provider's own encoding. */
function mutatedBody(id: ProviderId, file: string): fc.Arbitrary<Buffer> {
  const p = fuzzProviders[id]
  const original = readFixture(id, file)
  const structural =
    p.format === 'form' ? mutatedForm(original.toString('utf8')).map(encodeForm) : mutatedJson(JSON.parse(original.toString('utf8'))).map((doc) => Buffer.from(JSON.stringify(doc) ?? 'null', 'utf8'))
  return fc.oneof({ weight: 3, arbitrary: structural }, { weight: 1, arbitrary: damagedBytes(original) })
}

const arbitraryBody: fc.Arbitrary<Buffer> = fc.oneof(
  fc.uint8Array({ maxLength: 600 }).map((b) => Buffer.from(b)),
  fc.string({ maxLength: 300 }).map((s) => Buffer.from(s, 'utf8')),
  fc.jsonValue({ maxDepth: 4 }).map((v) => Buffer.from(JSON.stringify(v), 'utf8')),
  fc.dictionary(fc.string({ maxLength: 12 }), fc.string({ maxLength: 20 }), { maxKeys: 8 }).map((d) => encodeForm(Object.entries(d))),
)

const headerName = fc.oneof(
  fc.constantFrom('x-hub-signature-256', 'x-twilio-signature', 'x-sinch-webhook-signature', 'x-sinch-webhook-signature-nonce', 'x-sinch-webhook-signature-timestamp', 'x-sinch-webhook-signature-algorithm', 'authorization', 'content-type', 'user-agent'),
  fc.string({ minLength: 1, maxLength: 20 }).map((s) => s.toLowerCase()),
)
const arbitraryHeaders = fc.dictionary(headerName, fc.oneof(fc.string({ maxLength: 120 }), hostileScalar.map(String)), { maxKeys: 8 })
const arbitraryUrl = fc.oneof(
  fc.webUrl({ withQueryParameters: true, withFragments: true }),
  fc.string({ maxLength: 200 }),
  fc.constantFrom('', '/', 'http://', 'https://gw.example/webhooks/gupshup/gs-fuzz/', 'https://gw.example/%', 'https://gw.example/webhooks/twilio/tw-fuzz?bodySHA256=zz', 'https://[::1'),
)
const arbitraryMethod = fc.constantFrom('POST', 'GET', 'PUT', 'post', '', 'DELETE')

/** Values put where the signature (or Gupshup's URL token) goes. */
const forgery = fc.oneof(
  fc.string({ maxLength: 100 }),
  fc.stringMatching(/^[0-9a-f]{64}$/).map((h) => `sha256=${h}`),
  fc.uint8Array({ minLength: 20, maxLength: 32 }).map((b) => Buffer.from(b).toString('base64')),
  fc.string({ unit: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'), minLength: 16, maxLength: 48 }),
  hostileScalar.map(String),
)

describe('adapter fuzzing (issue 7)', () => {
  it('covers every registered adapter', () => {
    expect(registry.ids().sort()).toEqual(Object.keys(fuzzProviders).sort())
  })

  for (const id of registry.ids()) {
    const adapter = registry.get(id) as AnyAdapter
    const p = fuzzProviders[id]

    describe(id, () => {
      it('has webhook fixtures to mutate, and each verifies and parses cleanly when signed', () => {
        expect(p.webhooks.length).toBeGreaterThan(2)
        for (const file of p.webhooks) {
          const req = p.sign(p.request(readFixture(id, file)))
          expect(verifyChecked(adapter, p, req), file).toBe(true)
          const items = parseChecked(adapter, p, req)
          expect(items.some((i) => i.kind !== 'rejected'), `${file}: ${JSON.stringify(items).slice(0, 300)}`).toBe(true)
        }
      })

      it('arbitrary bodies, headers, URLs and methods: verify and parse never throw, items are well-formed', () => {
        fc.assert(
          fc.property(arbitraryBody, arbitraryHeaders, arbitraryUrl, arbitraryMethod, (body, headers, url, method) => {
            const req: RawRequest = { method, url, headers, body }
            verifyChecked(adapter, p, req)
            parseChecked(adapter, p, req)
            // The same body as the provider would send it, correctly signed: still nothing escapes.
            const signed = p.sign(p.request(body))
            expect(verifyChecked(adapter, p, signed)).toBe(true)
            parseChecked(adapter, p, signed)
          }),
          { numRuns: RUNS },
        )
      })

      it('mutated real webhooks: a correct signature verifies, parse never throws and yields well-formed items', () => {
        fc.assert(
          fc.property(fc.constantFrom(...p.webhooks).chain((file) => mutatedBody(id, file)), (body) => {
            const req = p.sign(p.request(body))
            expect(verifyChecked(adapter, p, req)).toBe(true)
            parseChecked(adapter, p, req)
          }),
          { numRuns: RUNS * 2 },
        )
      })

      it('forged signatures never verify (random values, other keys, other bodies)', () => {
        fc.assert(
          fc.property(fc.constantFrom(...p.webhooks).chain((file) => mutatedBody(id, file)), forgery, arbitraryBody, (body, fake, other) => {
            const req = p.request(body)
            if (!p.isGenuine(req, fake)) expect(verifyChecked(adapter, p, p.forge(req, fake))).toBe(false)
            // A genuine signature of another body, replayed on this one (Gupshup signs no body).
            if (p.bodyBound && !other.equals(body)) {
              const otherSigned = p.sign(p.request(other))
              const replayed: RawRequest = { ...otherSigned, body }
              expect(verifyChecked(adapter, p, replayed)).toBe(false)
            }
            // No signature at all.
            expect(verifyChecked(adapter, p, req)).toBe(false)
          }),
          { numRuns: RUNS },
        )
      })
    })
  }

  describe('regressions the fuzzer found (kept as fixed examples)', () => {
    const json = (provider: ProviderId, file: string, change: (doc: any) => void) => {
      const doc = JSON.parse(readFixture(provider, file).toString('utf8'))
      change(doc)
      return Buffer.from(JSON.stringify(doc))
    }
    const parsed = (provider: ProviderId, body: Buffer) => {
      const p = fuzzProviders[provider]
      return parseChecked(registry.get(provider) as AnyAdapter, p, p.sign(p.request(body)))
    }

    it('a status word naming an Object.prototype member is not a status (Twilio, Sinch)', () => {
      const tw = parsed('twilio', Buffer.from(readFixture('twilio', 'status_sent.txt').toString('utf8').replace('MessageStatus=sent', 'MessageStatus=__proto__')))
      expect(tw.map((i) => i.kind)).toEqual(['ignored'])
      const sinch = parsed('sinch', json('sinch', 'delivery_failed_outside_window_whatsapp.json', (d) => (d.message_delivery_report.status = 'constructor')))
      expect(sinch.map((i) => i.kind)).toEqual(['ignored'])
      const subCode = parsed('sinch', json('sinch', 'delivery_failed_outside_window_whatsapp.json', (d) => (d.message_delivery_report.reason.sub_code = 'toString')))
      expect(subCode[0]).toMatchObject({ kind: 'status', status: { error: { code: 'outside_window' } } })
    })

    it('a timestamp beyond what a date can hold is refused, not passed on to fail in the pipeline (Meta, Gupshup)', () => {
      const meta = parsed('meta', json('meta', 'webhook-status-sent.json', (d) => (d.entry[0].changes[0].value.statuses[0].timestamp = '9999999999999999')))
      expect(meta.map((i) => i.kind)).toEqual(['rejected'])
      const gs = parsed('gupshup', json('gupshup', 'event-read.json', (d) => (d.timestamp = 1.6e25)))
      expect(gs.map((i) => i.kind)).toEqual(['rejected'])
    })

    it('an empty Gupshup message id falls back to the other id, or the event is refused', () => {
      const fallback = parsed('gupshup', json('gupshup', 'event-read.json', (d) => (d.payload.gsId = '')))
      expect(fallback[0]).toMatchObject({ kind: 'status', status: { providerMessageId: 'gBEGkYaYVSEEAgnZxQ3JmKK6Wvg' } })
      const none = parsed('gupshup', json('gupshup', 'event-read.json', (d) => Object.assign(d.payload, { gsId: '', id: '' })))
      expect(none.map((i) => i.kind)).toEqual(['rejected'])
    })
  })

  describe('scheme-specific forgeries', () => {
    const meta = registry.get('meta') as AnyAdapter
    const sinch = registry.get('sinch') as AnyAdapter
    const tw = registry.get('twilio') as AnyAdapter
    const body = readFixture('sinch', 'inbound_text_whatsapp.json')

    it('sinch: a correct signature over a stale or future timestamp, another nonce or another algorithm is refused', () => {
      const p = fuzzProviders.sinch
      const signed = p.sign(p.request(body))
      const h = signed.headers
      fc.assert(
        fc.property(fc.integer({ min: 301, max: 10_000_000 }), fc.boolean(), fc.string({ minLength: 1, maxLength: 30 }), (skewS, future, nonce) => {
          const ts = String(Math.floor(Date.now() / 1000) + (future ? skewS : -skewS))
          // Signed honestly for that timestamp: still outside the replay window.
          const nonceOk = h['x-sinch-webhook-signature-nonce'] as string
          const resigned = { ...signed, headers: { ...h, 'x-sinch-webhook-signature-timestamp': ts, 'x-sinch-webhook-signature': sinchSignature(body, nonceOk, ts) } }
          expect(verifyChecked(sinch, p, resigned)).toBe(false)
          if (nonce.trim() !== h['x-sinch-webhook-signature-nonce']) expect(verifyChecked(sinch, p, { ...signed, headers: { ...h, 'x-sinch-webhook-signature-nonce': nonce } })).toBe(false)
        }),
        { numRuns: 60 },
      )
      expect(verifyChecked(sinch, p, { ...signed, headers: { ...h, 'x-sinch-webhook-signature-algorithm': 'HmacSHA1' } })).toBe(false)
    })

    it('twilio: a signature for another URL, or a JSON body whose bodySHA256 does not match, is refused', () => {
      const p = fuzzProviders.twilio
      const form = readFixture('twilio', 'inbound_text.txt')
      fc.assert(
        fc.property(fc.webUrl({ withQueryParameters: true }), (otherUrl) => {
          const req = p.request(form)
          const signedElsewhere = p.sign({ ...req, url: otherUrl })
          if (otherUrl !== req.url) expect(verifyChecked(tw, p, { ...req, headers: signedElsewhere.headers })).toBe(false)
        }),
        { numRuns: 60 },
      )
      fc.assert(
        fc.property(fc.jsonValue({ maxDepth: 3 }), fc.jsonValue({ maxDepth: 3 }), (a, b) => {
          const bodyA = Buffer.from(JSON.stringify(a))
          const bodyB = Buffer.from(JSON.stringify(b))
          const url = `https://gw.example/webhooks/twilio/tw-fuzz?bodySHA256=${sha256Hex(bodyA)}`
          const signed = p.sign({ method: 'POST', url, headers: { 'content-type': 'application/json' }, body: Buffer.alloc(0) })
          expect(verifyChecked(tw, p, { ...signed, body: bodyA })).toBe(true)
          if (!bodyA.equals(bodyB)) expect(verifyChecked(tw, p, { ...signed, body: bodyB })).toBe(false)
          parseChecked(tw, p, { ...signed, body: bodyB })
        }),
        { numRuns: 60 },
      )
    })

    it('meta: the GET handshake answers only the account verify token, whatever the query', () => {
      const p = fuzzProviders.meta
      const account = p.account(meta)
      fc.assert(
        fc.property(fc.dictionary(fc.constantFrom('hub.mode', 'hub.verify_token', 'hub.challenge', 'x'), fc.string({ maxLength: 40 })), (query) => {
          const params = new URLSearchParams(query)
          let answer: string | undefined
          expect(() => {
            answer = meta.handshake?.(account, params)
          }).not.toThrow()
          if (query['hub.verify_token'] !== 'fuzz-verify') expect(answer).toBeUndefined()
        }),
        { numRuns: 100 },
      )
      expect(meta.handshake?.(account, new URLSearchParams({ 'hub.mode': 'subscribe', 'hub.verify_token': 'fuzz-verify', 'hub.challenge': '1158201444' }))).toBe('1158201444')
    })

    it('meta: app-wide routing keys are read from any body without throwing, and are strings', () => {
      fc.assert(
        fc.property(fc.oneof(arbitraryBody, mutatedBody('meta', 'webhook-status-sent.json')), (b) => {
          let keys: string[] = []
          expect(() => {
            keys = meta.routeKeys?.({ method: 'POST', url: 'https://gw.example/webhooks/meta', headers: {}, body: b }) ?? []
          }).not.toThrow()
          for (const k of keys) expect(typeof k).toBe('string')
        }),
        { numRuns: RUNS },
      )
    })
  })
})
