import { createHmac } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { request } from 'undici'
import type { TestGateway } from '../harness/gateway.js'
import { fingerprint } from '../fuzz/api-support.js'

/**
 * Shared steps of the security tests: calls with another tenant's key, Meta webhooks signed in the
 * test (node:crypto), and waiting until the gateway is idle so a before/after comparison of the
 * store only sees what the request under test did.
 */

export type Call = (method: string, path: string, body?: unknown) => Promise<{ status: number; json: any; text: string }>

/** `t.api` with another API key. */
export function as(t: TestGateway, key: string): Call {
  return (method, path, body) => t.api(method, path, body, { authorization: `Bearer ${key}` })
}

/** A Meta inbound text webhook for `phoneNumberId`, from `from` (digits), with a fresh message id. */
export function metaInbound(phoneNumberId: string, from: string, text: string): string {
  const doc = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'fixtures', 'meta', 'webhook-text-with-bsuid-and-wa_id.json'), 'utf8'))
  const value = doc.entry[0].changes[0].value
  value.metadata.phone_number_id = phoneNumberId
  value.messages[0].id = `wamid.sec${Date.now().toString(36)}${Math.random().toString(36).slice(2)}`
  value.messages[0].from = from
  value.messages[0].text.body = text
  delete value.messages[0].from_user_id
  value.contacts = [{ profile: { name: 'Sec Test' }, wa_id: from }]
  return JSON.stringify(doc)
}

export async function postMeta(t: TestGateway, path: string, body: string, appSecret: string): Promise<{ status: number; text: string }> {
  const res = await request(t.url + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-hub-signature-256': `sha256=${createHmac('sha256', appSecret).update(body).digest('hex')}` },
    body,
  })
  return { status: res.statusCode, text: await res.body.text() }
}

/** Waits until nothing changes in the store for a while (sends, statuses, deliveries settled). */
export async function settle(t: TestGateway, quietMs = 400, timeoutMs = 20_000): Promise<Record<string, string>> {
  const deadline = Date.now() + timeoutMs
  let last = await fingerprint(t)
  let since = Date.now()
  for (;;) {
    await new Promise((r) => setTimeout(r, 50))
    const now = await fingerprint(t)
    if (JSON.stringify(now) !== JSON.stringify(last)) {
      last = now
      since = Date.now()
    } else if (Date.now() - since >= quietMs) return now
    if (Date.now() > deadline) throw new Error('the gateway did not settle: the store kept changing')
  }
}
