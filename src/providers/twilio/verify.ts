import { constantTimeEqual } from '../../crypto.js'
import { createHash, createHmac } from 'node:crypto'
import { parse as parseQuery, stringify as stringifyQuery } from 'node:querystring'
import type { AccountContext, RawRequest, Verdict } from '../types.js'
import type { TwilioConfig } from './config.js'
import { decodeForm, type FormParams } from './params.js'

/**
 * `X-Twilio-Signature` (twilio.md §4): base64(HMAC-SHA1(AuthToken, URL + sorted key/value pairs)).
 * Form webhooks sign their POST params; JSON webhooks sign the URL alone, which carries
 * `bodySHA256` = sha256 hex of the raw body.
 */

/**
 * The signature Twilio computes for a URL and form params. A repeated key contributes each of its
 * de-duplicated values in sorted order, as Twilio's own validator does.
 *
 * @example
 * twilioSignature('12345', 'https://mycompany.com/myapp.php?foo=1&bar=2', new Map([['Digits', ['1234']]]))
 */
export function twilioSignature(authToken: string, url: string, params: FormParams): string {
  let data = url
  for (const key of [...params.keys()].sort()) {
    for (const value of [...new Set(params.get(key))].sort()) data += key + value
  }
  return createHmac('sha1', authToken).update(data, 'utf8').digest('base64')
}

/**
 * The URL spellings Twilio's validator accepts for one request: as received, WHATWG-normalised
 * without the default port and with it (`:443` / `:80`), and each again with the query string
 * re-encoded the legacy `querystring` way.
 *
 * @example
 * urlVariants('https://a.example/x') // ['https://a.example/x', 'https://a.example:443/x']
 */
export function urlVariants(rawUrl: string): string[] {
  const variants = new Set<string>([rawUrl])
  let url: URL
  try {
    url = new URL(rawUrl)
  } catch {
    return [...variants]
  }
  const defaultPort = url.protocol === 'https:' ? '443' : url.protocol === 'http:' ? '80' : undefined
  const userinfo = url.username ? `${url.username}${url.password ? `:${url.password}` : ''}@` : ''
  const bases = [`${url.protocol}//${userinfo}${url.host}${url.pathname}`]
  // `url.port` is '' exactly when the port is the scheme's default (or absent).
  if (url.port === '' && defaultPort !== undefined) bases.push(`${url.protocol}//${userinfo}${url.hostname}:${defaultPort}${url.pathname}`)
  const legacySearch = url.search ? `?${stringifyQuery(parseQuery(url.search.slice(1)))}` : ''
  for (const base of bases) {
    variants.add(base + url.search)
    if (legacySearch) variants.add(base + legacySearch)
  }
  return [...variants]
}

/**
 * Verifies a Twilio webhook. Never throws; the reason is for logs only.
 *
 * @example
 * verifyTwilioRequest(account, { method: 'POST', url, headers: { 'x-twilio-signature': sig }, body })
 */
export function verifyTwilioRequest(account: AccountContext<TwilioConfig>, req: RawRequest): Verdict {
  try {
    const authToken = account.config.auth_token
    if (!authToken) return { ok: false, reason: 'no auth_token configured: Twilio signs webhooks with the Auth Token' }
    const header = req.headers['x-twilio-signature']
    if (!header) return { ok: false, reason: 'missing X-Twilio-Signature' }

    const bodyHash = bodySha256Of(req.url)
    let params: FormParams
    if (bodyHash !== undefined) {
      const actual = createHash('sha256').update(req.body).digest('hex')
      if (!constantTimeEqual(actual, bodyHash.toLowerCase())) return { ok: false, reason: 'body does not match bodySHA256' }
      params = new Map()
    } else if (isJson(req.headers['content-type'])) {
      return { ok: false, reason: 'JSON body without a bodySHA256 query parameter' }
    } else {
      params = req.method.toUpperCase() === 'GET' ? new Map() : decodeForm(req.body)
    }

    let matched = false
    // Every variant is checked (no early exit) so the time taken does not depend on which matched.
    for (const url of urlVariants(req.url)) {
      if (constantTimeEqual(twilioSignature(authToken, url, params), header)) matched = true
    }
    return matched ? { ok: true } : { ok: false, reason: 'X-Twilio-Signature does not match' }
  } catch (err) {
    return { ok: false, reason: `verification error: ${err instanceof Error ? err.message : String(err)}` }
  }
}

function bodySha256Of(rawUrl: string): string | undefined {
  try {
    return new URL(rawUrl).searchParams.get('bodySHA256') ?? undefined
  } catch {
    return undefined
  }
}

function isJson(contentType: string | undefined): boolean {
  return contentType !== undefined && /^application\/(?:[\w.+-]+\+)?json\b/i.test(contentType.trim())
}

