/**
 * Decoding of Twilio's `application/x-www-form-urlencoded` webhook bodies. URLSearchParams never
 * throws: malformed percent sequences are kept literally, which then simply fail the signature.
 */

/** Every value of every key, in received order (a repeated key keeps all its values). */
export type FormParams = Map<string, string[]>

/**
 * @example
 * decodeForm(Buffer.from('A=1&B=2&A=3')).get('A') // ['1', '3']
 */
export function decodeForm(body: Buffer | string): FormParams {
  const params: FormParams = new Map()
  for (const [key, value] of new URLSearchParams(typeof body === 'string' ? body : body.toString('utf8'))) {
    const values = params.get(key)
    if (values === undefined) params.set(key, [value])
    else values.push(value)
  }
  return params
}

/** The first value of each key, as the parser reads single-valued fields. */
export function firstValues(params: FormParams): Record<string, string> {
  const out: Record<string, string> = Object.create(null) as Record<string, string>
  for (const [key, values] of params) {
    if (values[0] !== undefined) out[key] = values[0]
  }
  return out
}

/** A JSON-friendly copy (single values as strings, repeated keys as arrays) for `raw`. */
export function rawParams(params: FormParams): Record<string, string | string[]> {
  // A null prototype so a hostile `__proto__` key stays an ordinary key.
  const out: Record<string, string | string[]> = Object.create(null) as Record<string, string | string[]>
  for (const [key, values] of params) out[key] = values.length === 1 ? (values[0] ?? '') : [...values]
  return out
}
