import { createHmac } from 'node:crypto'

/**
 * Sinch Conversation callback signing (sinch.md §3): standard base64 (with padding) of
 * HMAC-SHA256 over `rawBody.nonce.timestamp`, keyed with the webhook secret's UTF-8 bytes
 * (the secret is not base64-decoded, unlike Sinch Voice/Verification).
 *
 * @example
 * signSinchCallback('{"a":1}', 'secret', '01FJA8B4A7BM43YGWSG9GBV067', '1634579353') // 'base64…='
 */
export function signSinchCallback(rawBody: string, secret: string, nonce: string, timestamp: string): string {
  return createHmac('sha256', Buffer.from(secret, 'utf8'))
    .update(`${rawBody}.${nonce}.${timestamp}`, 'utf8')
    .digest('base64')
}

/**
 * The four headers Sinch sends with a signed callback. The timestamp is unix seconds, as in the
 * SDK test vectors.
 *
 * @example
 * const headers = sinchSignatureHeaders(body, 'secret', 'NONCE', 1634579353)
 * headers['x-sinch-webhook-signature-algorithm'] // 'HmacSHA256'
 */
export function sinchSignatureHeaders(
  rawBody: string,
  secret: string,
  nonce: string,
  unixSeconds: number,
): Record<string, string> {
  const timestamp = String(unixSeconds)
  return {
    'x-sinch-webhook-signature': signSinchCallback(rawBody, secret, nonce, timestamp),
    'x-sinch-webhook-signature-timestamp': timestamp,
    'x-sinch-webhook-signature-nonce': nonce,
    'x-sinch-webhook-signature-algorithm': 'HmacSHA256',
  }
}
