import { createHmac } from 'node:crypto'
import { request } from 'undici'
import { startCaptureServer, type CaptureServer, type CapturedRequest } from '../../../test/harness/capture-server.js'
import { createMetaSimulator } from './index.js'
import type { MetaSimAccount, MetaSimulator, MetaSimulatorOptions } from './types.js'

/** Shared set-up for the simulator's tests (not a test file itself). */

export const TOKEN = 'EAAG-test-token'
export const APP_SECRET = 'test-app-secret'
export const PHONE_ID = '106540352242922'
export const DISPLAY = '15550783881'
export const WABA = '102290129340398'

export interface Rig {
  sim: MetaSimulator
  hooks: CaptureServer
  account: MetaSimAccount
  send(body: unknown, opts?: { token?: string | null; phoneId?: string; version?: string }): Promise<{ status: number; json: unknown; text: string }>
  close(): Promise<void>
}

export async function startRig(options: MetaSimulatorOptions = {}): Promise<Rig> {
  const hooks = await startCaptureServer(() => ({ status: 200, body: '' }))
  const account: MetaSimAccount = {
    phoneNumberId: PHONE_ID,
    displayPhoneNumber: DISPLAY,
    accessToken: TOKEN,
    appSecret: APP_SECRET,
    webhookUrl: `${hooks.url}/webhooks/meta`,
    wabaId: WABA,
  }
  const sim = createMetaSimulator({ timings: { sentMs: 5, deliveredMs: 30, readMs: 55 }, ...options, accounts: [account] })
  await sim.start()
  return {
    sim,
    hooks,
    account,
    async send(body, opts = {}) {
      const token = opts.token === undefined ? TOKEN : opts.token
      const headers: Record<string, string> = { 'content-type': 'application/json' }
      if (token !== null) headers.authorization = `Bearer ${token}`
      const res = await request(`${sim.url}/${opts.version ?? 'v25.0'}/${opts.phoneId ?? PHONE_ID}/messages`, {
        method: 'POST',
        headers,
        body: typeof body === 'string' ? body : JSON.stringify(body),
      })
      const text = await res.body.text()
      let json: unknown
      try {
        json = JSON.parse(text)
      } catch {
        json = undefined
      }
      return { status: res.statusCode, json, text }
    },
    async close() {
      await sim.stop()
      await hooks.close()
    },
  }
}

/** Recomputes X-Hub-Signature-256 with node:crypto, independent of the simulator's signer. */
export function signatureIsValid(req: CapturedRequest, secret = APP_SECRET): boolean {
  const expected = `sha256=${createHmac('sha256', secret).update(Buffer.from(req.raw, 'utf8')).digest('hex')}`
  return req.headers['x-hub-signature-256'] === expected
}

interface WebhookValue {
  metadata: { display_phone_number: string; phone_number_id: string }
  contacts?: Array<Record<string, unknown>>
  messages?: Array<Record<string, unknown>>
  statuses?: Array<Record<string, unknown>>
}

/** The single change value of a Meta webhook, after checking the envelope around it. */
export function valueOf(req: CapturedRequest): WebhookValue {
  const payload = req.json as {
    object: string
    entry: Array<{ id: string; changes: Array<{ field: string; value: WebhookValue & { messaging_product: string } }> }>
  }
  if (payload.object !== 'whatsapp_business_account') throw new Error(`bad object ${payload.object}`)
  const change = payload.entry[0]?.changes[0]
  if (!change || change.field !== 'messages' || change.value.messaging_product !== 'whatsapp') throw new Error('bad change')
  return change.value
}

/** Every status entry received so far, in arrival order. */
export function statusesReceived(hooks: CaptureServer): Array<Record<string, unknown>> {
  return hooks.requests.flatMap((r) => valueOf(r).statuses ?? [])
}

export const textTo = (to: string, extra: Record<string, unknown> = {}) => ({
  messaging_product: 'whatsapp',
  recipient_type: 'individual',
  to,
  type: 'text',
  text: { body: 'hello' },
  ...extra,
})
