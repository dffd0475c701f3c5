import { createHmac } from 'node:crypto'
import twilio from 'twilio'
import type { TestGateway } from '../harness/gateway.js'
import { readFixture } from '../harness/fixtures.js'

/**
 * Genuine webhook requests for the sandbox accounts of a test gateway, signed here the providers'
 * documented ways (node:crypto; Twilio with its official package) from the accounts' stored
 * secrets — so a test can send the real thing, then the same thing forged, replayed on another
 * body, oversized or unreadable, and compare.
 *
 * @example
 * const w = await webhookFor(t, 'meta')
 * await call(t, 'POST', w.path, w.body, w.headers(w.body)) // 200
 */
export interface SignedWebhook {
  provider: 'meta' | 'twilio' | 'sinch' | 'gupshup'
  /** Path with the account (and Gupshup's token). */
  path: string
  /** Path with the right account but a wrong token / no way to authenticate (Gupshup: another token). */
  forgedPath: string
  /** A real inbound webhook body for this account, with a fresh provider message id. */
  body: Buffer
  /** A second, different genuine body (another message id). */
  other: Buffer
  /** Headers that authenticate `body` (content type included). */
  headers(body: Buffer): Record<string, string>
  /** Headers that look right but are signed with another secret. */
  forged(body: Buffer): Record<string, string>
}

const hmac = (algo: 'sha1' | 'sha256', key: string, data: Buffer | string, enc: 'hex' | 'base64') => createHmac(algo, key).update(data).digest(enc)

export async function webhookFor(t: TestGateway, provider: SignedWebhook['provider'], seq = 0): Promise<SignedWebhook> {
  const account = await t.gw.accounts.get(t.gw.tenantId, `sandbox-${provider}`)
  const c = account.rawConfig
  const id = (n: number) => `${Date.now().toString(36)}${seq}x${n}`
  switch (provider) {
    case 'meta': {
      const make = (n: number) => {
        const doc = JSON.parse(readFixture('meta', 'webhook-text-with-bsuid-and-wa_id.json').toString('utf8'))
        const value = doc.entry[0].changes[0].value
        value.metadata.phone_number_id = String(c.phone_number_id)
        value.messages[0].id = `wamid.fuzz${id(n)}`
        return Buffer.from(JSON.stringify(doc))
      }
      const sign = (secret: string) => (body: Buffer) => ({ 'content-type': 'application/json', 'x-hub-signature-256': `sha256=${hmac('sha256', secret, body, 'hex')}` })
      return { provider, path: '/webhooks/meta/sandbox-meta', forgedPath: '/webhooks/meta/sandbox-meta', body: make(1), other: make(2), headers: sign(String(c.app_secret)), forged: sign('not-the-app-secret') }
    }
    case 'twilio': {
      const path = '/webhooks/twilio/sandbox-twilio'
      const make = (n: number) =>
        Buffer.from(
          new URLSearchParams({ MessageSid: `SM${id(n).padEnd(32, '0').slice(0, 32)}`, AccountSid: String(c.account_sid), From: 'whatsapp:+31612345678', To: `whatsapp:${account.row.phone_number}`, Body: 'fuzz', NumMedia: '0' }).toString(),
        )
      const sign = (token: string) => (body: Buffer) => {
        const params = Object.fromEntries(new URLSearchParams(body.toString('utf8')))
        return { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': twilio.getExpectedTwilioSignature(token, t.url + path, params) }
      }
      return { provider, path, forgedPath: path, body: make(1), other: make(2), headers: sign(String(c.auth_token)), forged: sign('not-the-auth-token') }
    }
    case 'sinch': {
      const make = (n: number) => {
        const doc = JSON.parse(readFixture('sinch', 'inbound_text_whatsapp.json').toString('utf8'))
        doc.app_id = String(c.app_id)
        doc.project_id = String(c.project_id)
        doc.message.id = `01FUZZ${id(n)}`.toUpperCase()
        return Buffer.from(JSON.stringify(doc))
      }
      const sign = (secret: string) => (body: Buffer) => {
        const nonce = `nonce-${Math.random().toString(36).slice(2)}`
        const ts = String(Math.floor(Date.now() / 1000))
        return {
          'content-type': 'application/json',
          'x-sinch-webhook-signature': createHmac('sha256', secret).update(Buffer.concat([body, Buffer.from(`.${nonce}.${ts}`)])).digest('base64'),
          'x-sinch-webhook-signature-nonce': nonce,
          'x-sinch-webhook-signature-timestamp': ts,
          'x-sinch-webhook-signature-algorithm': 'HmacSHA256',
        }
      }
      return { provider, path: '/webhooks/sinch/sandbox-sinch', forgedPath: '/webhooks/sinch/sandbox-sinch', body: make(1), other: make(2), headers: sign(String(c.webhook_secret)), forged: sign('not-the-webhook-secret') }
    }
    case 'gupshup': {
      const token = String(c.webhook_token)
      const make = (n: number) => {
        const doc = JSON.parse(readFixture('gupshup', 'inbound-text.json').toString('utf8'))
        doc.app = String(c.app_name)
        doc.timestamp = Date.now()
        doc.payload.id = `ABEGfuzz${id(n)}`
        doc.payload.source = '14155550199'
        doc.payload.sender.phone = '14155550199'
        return Buffer.from(JSON.stringify(doc))
      }
      const headers = () => ({ 'content-type': 'application/json' })
      const wrong = `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`
      return { provider, path: `/webhooks/gupshup/sandbox-gupshup/${token}`, forgedPath: `/webhooks/gupshup/sandbox-gupshup/${wrong}`, body: make(1), other: make(2), headers, forged: headers }
    }
  }
}
