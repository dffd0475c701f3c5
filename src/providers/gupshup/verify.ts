import { createHash, timingSafeEqual } from 'node:crypto'
import type { RawRequest, Verdict } from '../types.js'
import type { GupshupConfig } from './config.js'

/**
 * The token segment of a callback URL: the last non-empty path segment, query and fragment ignored
 * (the gateway's route is `POST /webhooks/gupshup/{account}/{token}`).
 */
function tokenSegmentOf(url: string): string | undefined {
  let path: string
  try {
    path = new URL(url, 'http://placeholder.invalid').pathname
  } catch {
    return undefined
  }
  const segments = path.split('/').filter((s) => s.length > 0)
  if (segments.length < 2) return undefined
  const last = segments[segments.length - 1]
  if (last === undefined) return undefined
  try {
    return decodeURIComponent(last)
  } catch {
    return undefined
  }
}

/** Hashing first gives equal-length buffers, so neither the content nor the length leaks in timing. */
function constantTimeEquals(a: string, b: string): boolean {
  const left = createHash('sha256').update(a, 'utf8').digest()
  const right = createHash('sha256').update(b, 'utf8').digest()
  return timingSafeEqual(left, right) && a.length === b.length
}

/**
 * Gupshup signs nothing (gupshup.md §4), so a callback is authentic when its URL carries the
 * account's `webhook_token` as the last path segment. Never throws.
 *
 * @example
 * verifyGupshup(config, { method: 'POST', url: `https://gw.example/webhooks/gupshup/acme/${config.webhook_token}`, headers: {}, body: Buffer.alloc(0) })
 * // { ok: true }
 */
export function verifyGupshup(config: GupshupConfig, req: RawRequest): Verdict {
  const expected: unknown = config?.webhook_token
  if (typeof expected !== 'string' || expected.length === 0) return { ok: false, reason: 'account has no webhook token' }
  const given = typeof req?.url === 'string' ? tokenSegmentOf(req.url) : undefined
  if (given === undefined) return { ok: false, reason: 'no token in the callback URL' }
  if (!constantTimeEquals(given, expected)) return { ok: false, reason: 'wrong token in the callback URL' }
  return { ok: true }
}
