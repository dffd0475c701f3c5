import { randomBytes } from 'node:crypto'
import { Webhook } from 'standardwebhooks'

/**
 * Standard Webhooks signing (DESIGN §10): `whsec_` secrets of 32 random bytes, and the three
 * headers a receiver checks with any Standard Webhooks library. The webhook id is the event id, so
 * a receiver can drop a redelivery it has already processed.
 *
 * @example
 * const secret = newWebhookSecret()
 * const headers = signedHeaders(secret, 'evt_01J…', Date.now(), body)
 * new Webhook(secret).verify(body, headers) // the envelope
 */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`
}

export interface SignedHeaders {
  'webhook-id': string
  'webhook-timestamp': string
  'webhook-signature': string
}

/** Signs with a prepared signer (one per subscription, so the secret is decoded once). */
export function signWith(signer: Webhook, eventId: string, nowMs: number, body: string): SignedHeaders {
  const at = new Date(nowMs)
  return {
    'webhook-id': eventId,
    'webhook-timestamp': String(Math.floor(nowMs / 1000)),
    'webhook-signature': signer.sign(eventId, at, body),
  }
}

export function signedHeaders(secret: string, eventId: string, nowMs: number, body: string): SignedHeaders {
  return signWith(new Webhook(secret), eventId, nowMs, body)
}

export { Webhook }
