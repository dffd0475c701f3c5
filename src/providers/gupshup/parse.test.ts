import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { RawRequest, WebhookItem } from '../types.js'
import { createGupshupAdapter } from './index.js'
import { TEST_TOKEN, WEBHOOK_BASE, testAccount } from './test-support.js'

const adapter = createGupshupAdapter()
const account = testAccount()
const url = `${WEBHOOK_BASE}/${TEST_TOKEN}`

function req(body: Buffer): RawRequest {
  return { method: 'POST', url, headers: {}, body }
}

const KINDS = new Set(['message', 'status', 'contact', 'account_error', 'ignored', 'rejected'])
function wellFormed(items: WebhookItem[]): boolean {
  return Array.isArray(items) && items.length > 0 && items.every((i) => KINDS.has(i.kind))
}

/** Keys a hostile payload might use to reach inherited properties of a lookup table. */
const trickyWord = fc.constantFrom('constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf', 'message', 'failed', 'sent', 'text', 'image', 'list_reply', 'quick_reply', 'mismatch', 'opted-out')

const gupshupish = fc.record({
  app: fc.oneof(fc.string(), fc.integer()),
  timestamp: fc.oneof(fc.integer(), fc.string(), fc.double()),
  version: fc.anything(),
  type: fc.oneof(fc.constantFrom('message', 'message-event', 'user-event', 'billing-event'), trickyWord, fc.string()),
  payload: fc.record(
    {
      id: fc.oneof(fc.string(), fc.anything()),
      gsId: fc.oneof(fc.string(), fc.anything()),
      source: fc.oneof(fc.string(), fc.anything()),
      destination: fc.oneof(fc.string(), fc.anything()),
      phone: fc.oneof(fc.string(), fc.anything()),
      type: fc.oneof(trickyWord, fc.string(), fc.anything()),
      payload: fc.oneof(
        fc.dictionary(fc.oneof(trickyWord, fc.string()), fc.anything()),
        fc.record({ code: fc.oneof(trickyWord, fc.integer()), reason: fc.anything(), wa_id: fc.anything(), title: fc.anything(), text: fc.anything() }, { requiredKeys: [] }),
        fc.anything(),
      ),
      sender: fc.anything(),
      context: fc.anything(),
    },
    { requiredKeys: [] },
  ),
})

describe('gupshup parse / verify on hostile input', () => {
  it('parse never throws on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => {
        expect(wellFormed(adapter.parse(account, req(Buffer.from(bytes))))).toBe(true)
      }),
    )
  })

  it('parse never throws on arbitrary JSON', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(wellFormed(adapter.parse(account, req(Buffer.from(JSON.stringify(value) ?? 'null'))))).toBe(true)
      }),
    )
  })

  it('parse never throws on Gupshup-shaped callbacks with wrong fields, and yields typed items', () => {
    fc.assert(
      fc.property(gupshupish, (value) => {
        const items = adapter.parse(account, req(Buffer.from(JSON.stringify(value))))
        expect(wellFormed(items)).toBe(true)
        for (const item of items) {
          if (item.kind === 'status') {
            expect(typeof item.status.providerMessageId).toBe('string')
            expect(typeof item.status.status).toBe('string')
            if (item.status.error) expect(typeof item.status.error.code).toBe('string')
          }
          if (item.kind === 'message') expect(typeof item.message.type).toBe('string')
        }
      }),
      { numRuns: 500 },
    )
  })

  it('a failure code like "constructor" maps to unknown, not to an inherited value', () => {
    const body = { app: 'a', timestamp: 1, version: 2, type: 'message-event', payload: { id: 'g1', type: 'failed', payload: { code: 'constructor', reason: 'x' } } }
    expect(adapter.parse(account, req(Buffer.from(JSON.stringify(body))))).toMatchObject([{ kind: 'status', status: { error: { code: 'unknown', provider_code: 'constructor' } } }])
  })

  it('verify never throws on arbitrary URLs and headers, and accepts only the exact token', () => {
    fc.assert(
      fc.property(fc.string(), fc.dictionary(fc.string(), fc.string()), (u, headers) => {
        const verdict = adapter.verify(account, { method: 'POST', url: u, headers, body: Buffer.alloc(0) })
        if (verdict.ok) expect(u).toContain(TEST_TOKEN)
        else expect(typeof verdict.reason).toBe('string')
      }),
    )
    fc.assert(
      fc.property(fc.webUrl({ withQueryParameters: true, withFragments: true }), (u) => {
        expect(adapter.verify(account, { method: 'POST', url: u, headers: {}, body: Buffer.alloc(0) }).ok).toBe(false)
      }),
      // Generating web URLs is slow; a few dozen cover the shapes.
      { numRuns: 25 },
    )
  })
})
