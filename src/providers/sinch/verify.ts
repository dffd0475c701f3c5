import { constantTimeEqual } from '../../crypto.js'
import { createHmac } from 'node:crypto'
import type { RawRequest, Verdict } from '../types.js'
import type { SinchConfig } from './config.js'

/**
 * Callback authenticity (sinch.md §3): `x-sinch-webhook-signature` is
 * base64(HMAC-SHA256(secret, raw_body + "." + nonce + "." + timestamp)), and the timestamp must be
 * recent. An optional `webhook_token` adds a shared secret the URL (`?token=`) or a Bearer header
 * carries. Nonce uniqueness is left to the engine's idempotent event handling.
 */

export const SIGNATURE_HEADER = 'x-sinch-webhook-signature'
export const NONCE_HEADER = 'x-sinch-webhook-signature-nonce'
export const TIMESTAMP_HEADER = 'x-sinch-webhook-signature-timestamp'
export const ALGORITHM_HEADER = 'x-sinch-webhook-signature-algorithm'
export const SUPPORTED_ALGORITHM = 'HmacSHA256'
export const DEFAULT_REPLAY_WINDOW_MS = 5 * 60_000

export interface VerifyOptions {
  /** Current time, unix ms. */
  now: () => number
  /** How far the signed timestamp may be from now, either way. */
  replayWindowMs: number
}

/**
 * The signature Sinch computes for a callback.
 *
 * @example
 * computeSignature('foo_secret1234', body, '01FJA8B4A7BM43YGWSG9GBV067', '1634579353')
 * // '6bpJoRmFoXVjfJIVglMoJzYXxnoxRujzR4k2GOXewOE=' for the Node SDK's test body
 */
export function computeSignature(secret: string, rawBody: Buffer, nonce: string, timestamp: string): string {
  return createHmac('sha256', Buffer.from(secret, 'utf8'))
    .update(rawBody)
    .update(Buffer.from(`.${nonce}.${timestamp}`, 'utf8'))
    .digest('base64')
}

/**
 * @example
 * verifyCallback(config, req, { now: Date.now, replayWindowMs: DEFAULT_REPLAY_WINDOW_MS }) // { ok: true } or { ok: false, reason }
 */
export function verifyCallback(config: SinchConfig, req: RawRequest, options: VerifyOptions): Verdict {
  try {
    if (!config.webhook_secret && !config.webhook_token) return { ok: false, reason: 'account has neither webhook_secret nor webhook_token' }
    if (config.webhook_token) {
      const tokenVerdict = verifyToken(config.webhook_token, req)
      if (!tokenVerdict.ok) return tokenVerdict
    }
    if (config.webhook_secret) return verifySignature(config.webhook_secret, req, options)
    return { ok: true }
  } catch {
    return { ok: false, reason: 'malformed request' }
  }
}

function verifySignature(secret: string, req: RawRequest, options: VerifyOptions): Verdict {
  const signature = header(req, SIGNATURE_HEADER)
  const nonce = header(req, NONCE_HEADER)
  const timestamp = header(req, TIMESTAMP_HEADER)
  if (!signature || !nonce || !timestamp) return { ok: false, reason: 'missing sinch signature headers' }
  const algorithm = header(req, ALGORITHM_HEADER)
  if (algorithm !== undefined && algorithm.toLowerCase() !== SUPPORTED_ALGORITHM.toLowerCase()) {
    return { ok: false, reason: `unsupported signature algorithm ${algorithm.slice(0, 40)}` }
  }
  if (!/^\d{1,12}$/.test(timestamp)) return { ok: false, reason: 'signature timestamp is not unix seconds' }
  const skewMs = Math.abs(options.now() - Number(timestamp) * 1000)
  if (!(skewMs <= options.replayWindowMs)) return { ok: false, reason: 'signature timestamp outside the replay window' }
  const expected = computeSignature(secret, req.body, nonce, timestamp)
  if (!constantTimeEqual(signature, expected)) return { ok: false, reason: 'signature mismatch' }
  return { ok: true }
}

function verifyToken(token: string, req: RawRequest): Verdict {
  const candidates: string[] = []
  try {
    const fromUrl = new URL(req.url).searchParams.get('token')
    if (fromUrl) candidates.push(fromUrl)
  } catch {
    // unparseable URL: only the header can carry the token
  }
  const authorization = header(req, 'authorization')
  const bearer = authorization?.match(/^Bearer\s+(.+)$/i)?.[1]
  if (bearer) candidates.push(bearer.trim())
  if (candidates.length === 0) return { ok: false, reason: 'missing webhook token' }
  // Evaluate every candidate so timing does not reveal which one was tried.
  const matches = candidates.map((c) => constantTimeEqual(c, token))
  return matches.includes(true) ? { ok: true } : { ok: false, reason: 'webhook token mismatch' }
}

function header(req: RawRequest, name: string): string | undefined {
  const value = req.headers[name]
  return typeof value === 'string' ? value.trim() : undefined
}

