import { createHmac } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import type { RawRequest } from '../types.js'
import { signMetaBody, verifyMetaSignature } from './verify.js'

const SECRET = 'app-secret-123'
const body = Buffer.from('{"object":"whatsapp_business_account","entry":[]}')
const req = (signature: string | undefined, raw: Buffer = body): RawRequest => ({
  method: 'POST',
  url: 'https://gw.example/webhooks/meta',
  headers: { 'x-hub-signature-256': signature },
  body: raw,
})

describe('signMetaBody', () => {
  it('is sha256= plus the lowercase hex HMAC-SHA256 of the raw bytes keyed by the app secret', () => {
    const hex = createHmac('sha256', SECRET).update(body).digest('hex')
    expect(signMetaBody(SECRET, body)).toBe(`sha256=${hex}`)
    expect(signMetaBody(SECRET, body)).toHaveLength(71)
  })
})

describe('verifyMetaSignature', () => {
  it('accepts the right signature (hex case does not matter)', () => {
    expect(verifyMetaSignature(SECRET, req(signMetaBody(SECRET, body)))).toEqual({ ok: true })
    expect(verifyMetaSignature(SECRET, req(`sha256=${signMetaBody(SECRET, body).slice(7).toUpperCase()}`))).toEqual({ ok: true })
  })

  it('signs bytes, not re-serialized JSON: a whitespace change breaks it', () => {
    const spaced = Buffer.from('{"object": "whatsapp_business_account","entry":[]}')
    expect(verifyMetaSignature(SECRET, req(signMetaBody(SECRET, body), spaced))).toMatchObject({ ok: false, reason: 'signature mismatch' })
  })

  it('refuses a signature made with another secret', () => {
    expect(verifyMetaSignature(SECRET, req(signMetaBody('other', body)))).toMatchObject({ ok: false, reason: 'signature mismatch' })
  })

  it.each([
    ['missing', undefined, 'missing X-Hub-Signature-256 header'],
    ['empty', '', 'missing X-Hub-Signature-256 header'],
    ['sha1 prefix', `sha1=${'a'.repeat(40)}`, 'malformed X-Hub-Signature-256 header'],
    ['short hex', `sha256=${'a'.repeat(63)}`, 'malformed X-Hub-Signature-256 header'],
    ['non-hex', `sha256=${'z'.repeat(64)}`, 'malformed X-Hub-Signature-256 header'],
    ['bare hex', 'a'.repeat(64), 'malformed X-Hub-Signature-256 header'],
  ])('refuses a %s header', (_name, header, reason) => {
    expect(verifyMetaSignature(SECRET, req(header))).toEqual({ ok: false, reason })
  })
})
