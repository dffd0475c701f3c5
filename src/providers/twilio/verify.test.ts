import fc from 'fast-check'
import twilio from 'twilio'
import { describe, expect, it } from 'vitest'
import type { RawRequest } from '../types.js'
import { decodeForm } from './params.js'
import { formRequest, signWithTwilioSdk, TEST_AUTH_TOKEN, testAccount } from './test-support.js'
import { twilioSignature, urlVariants, verifyTwilioRequest } from './verify.js'

const account = testAccount()

describe('twilioSignature', () => {
  it('matches the twilio package for arbitrary params, repeated keys included', () => {
    const params = fc.array(fc.tuple(fc.string({ minLength: 1, maxLength: 12 }), fc.string({ maxLength: 20 })), { maxLength: 12 })
    fc.assert(
      fc.property(params, fc.webUrl({ withQueryParameters: true }), (pairs, url) => {
        const form = new URLSearchParams(pairs)
        // A null prototype so a generated `__proto__` key is an ordinary key for the SDK too.
        const sdkParams: Record<string, string | string[]> = Object.create(null) as Record<string, string | string[]>
        for (const key of new Set(form.keys())) {
          const all = form.getAll(key)
          sdkParams[key] = all.length === 1 ? (all[0] ?? '') : all
        }
        expect(twilioSignature(TEST_AUTH_TOKEN, url, decodeForm(form.toString()))).toBe(
          twilio.getExpectedTwilioSignature(TEST_AUTH_TOKEN, url, sdkParams),
        )
      }),
      { numRuns: 300 },
    )
  })
})

describe('urlVariants', () => {
  it('adds the default port for https and http, and nothing for a custom port', () => {
    expect(urlVariants('https://a.example/x?y=1')).toContain('https://a.example:443/x?y=1')
    expect(urlVariants('http://a.example/x')).toContain('http://a.example:80/x')
    expect(urlVariants('https://a.example:443/x')).toContain('https://a.example/x')
    expect(urlVariants('https://a.example:8443/x').some((u) => u.includes(':443/'))).toBe(false)
  })

  it('keeps an unparseable URL as the only variant', () => {
    expect(urlVariants('not a url')).toEqual(['not a url'])
  })
})

describe('verifyTwilioRequest', () => {
  it('accepts unknown extra params as long as they were signed', () => {
    const req = signWithTwilioSdk(formRequest('MessageSid=SM1&Body=hi&SomeNewTwilioField=42'))
    expect(verifyTwilioRequest(account, req)).toEqual({ ok: true })
  })

  it('refuses a body changed after signing', () => {
    const req = signWithTwilioSdk(formRequest('MessageSid=SM1&Body=hi'))
    expect(verifyTwilioRequest(account, { ...req, body: Buffer.from('MessageSid=SM1&Body=hI') }).ok).toBe(false)
  })

  it('never throws on hostile requests', () => {
    const header = fc.option(fc.string({ maxLength: 60 }), { nil: undefined })
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 1000 }),
        fc.oneof(fc.string({ maxLength: 80 }), fc.webUrl({ withQueryParameters: true })),
        header,
        fc.constantFrom(undefined, 'application/json', 'application/x-www-form-urlencoded'),
        fc.constantFrom('POST', 'GET', 'PUT'),
        (body, url, signature, type, method) => {
          const req: RawRequest = { method, url, headers: { 'x-twilio-signature': signature, 'content-type': type }, body: Buffer.from(body) }
          expect(verifyTwilioRequest(account, req).ok).toBe(false)
        },
      ),
      { numRuns: 500 },
    )
  })
})
