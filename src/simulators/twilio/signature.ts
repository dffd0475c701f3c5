import { createHmac } from 'node:crypto'

/** Form parameters as the simulator posts them; a repeated key carries every value. */
export type FormParams = Record<string, string | string[]>

/**
 * Computes `X-Twilio-Signature` the way Twilio documents it: the full URL Twilio requests
 * (query string included), then every POST parameter sorted by key with `key + value` appended
 * and no separator, HMAC-SHA1 with the account's auth token, base64.
 *
 * A repeated key is appended once per distinct value, values sorted: that is how twilio-node's
 * validator rebuilds the string, so a receiver using it accepts what we send.
 *
 * @example
 * twilioSignature('12345', 'https://mycompany.com/myapp.php?foo=1&bar=2', { Digits: '1234' })
 */
export function twilioSignature(authToken: string, url: string, params: FormParams): string {
  let data = url
  for (const key of Object.keys(params).sort(byCodeUnit)) {
    const value = params[key]
    if (value === undefined) continue
    const values = Array.isArray(value) ? [...new Set(value)].sort(byCodeUnit) : [value]
    for (const v of values) data += key + v
  }
  return createHmac('sha1', authToken).update(data, 'utf8').digest('base64')
}

/** Sorts by UTF-16 code units, the order JavaScript's default sort uses, made explicit. */
function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

/**
 * Encodes params as `application/x-www-form-urlencoded`, repeating a key for each of its values.
 *
 * @example
 * encodeForm({ MediaUrl: ['https://a/1.png', 'https://a/2.png'], To: 'whatsapp:+1555' })
 */
export function encodeForm(params: FormParams): string {
  const form = new URLSearchParams()
  for (const [key, value] of Object.entries(params)) {
    for (const v of Array.isArray(value) ? value : [value]) form.append(key, v)
  }
  return form.toString()
}

/** Reads a form body into params, keeping repeated keys as arrays. */
export function decodeForm(body: string): FormParams {
  const out: FormParams = {}
  for (const [key, value] of new URLSearchParams(body)) {
    const seen = out[key]
    if (seen === undefined) out[key] = value
    else out[key] = Array.isArray(seen) ? [...seen, value] : [seen, value]
  }
  return out
}
