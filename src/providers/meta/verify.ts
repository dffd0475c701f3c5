import { createHmac, timingSafeEqual } from 'node:crypto'
import type { RawRequest, Verdict } from '../types.js'

const SIGNATURE_HEADER = 'x-hub-signature-256'
const SIGNATURE_FORMAT = /^sha256=([0-9a-fA-F]{64})$/

/**
 * The `X-Hub-Signature-256` value Meta would send for this body: `sha256=` + lowercase hex
 * HMAC-SHA256 of the raw bytes keyed by the app secret.
 *
 * @example
 * signMetaBody('app-secret', Buffer.from('{}')) // 'sha256=…64 hex…'
 */
export function signMetaBody(appSecret: string, body: Buffer | string): string {
  return `sha256=${createHmac('sha256', appSecret).update(body).digest('hex')}`
}

/**
 * Checks a webhook POST against the app secret, in constant time. Never throws.
 *
 * @example
 * verifyMetaSignature('app-secret', req) // { ok: true } or { ok: false, reason: 'signature mismatch' }
 */
export function verifyMetaSignature(appSecret: string, req: RawRequest): Verdict {
  try {
    const header = req.headers[SIGNATURE_HEADER]
    if (typeof header !== 'string' || header === '') return { ok: false, reason: 'missing X-Hub-Signature-256 header' }
    const match = SIGNATURE_FORMAT.exec(header.trim())
    if (!match?.[1]) return { ok: false, reason: 'malformed X-Hub-Signature-256 header' }
    if (!Buffer.isBuffer(req.body)) return { ok: false, reason: 'request body is not raw bytes' }
    const given = Buffer.from(match[1], 'hex')
    const expected = createHmac('sha256', appSecret).update(req.body).digest()
    // both are 32 bytes by construction; the length guard keeps timingSafeEqual from throwing regardless
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'signature mismatch' }
    return { ok: true }
  } catch {
    return { ok: false, reason: 'signature check failed' }
  }
}
