import { createHmac } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { request } from 'undici'
import { metaSandbox } from '../../src/sandbox.js'
import { startTestGateway, type TestGateway, type TestGatewayOptions } from '../harness/gateway.js'

/**
 * Shared helpers of the gateway-core acceptance tests: a gateway with only the Meta sandbox,
 * signed Meta webhooks built in the test (node:crypto, never the gateway's own signer), and raw
 * HTTP calls for requests the harness's `api()` cannot express (wrong content types, no auth).
 */
export const META = 'sandbox-meta'
export const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'meta')

export function startMetaGateway(opts: Omit<TestGatewayOptions, 'sandboxes'> = {}): Promise<TestGateway> {
  return startTestGateway({ ...opts, sandboxes: (t) => [metaSandbox(t)] })
}

/** The sandbox account's Meta config values, read from the account service. */
export async function metaSecrets(t: TestGateway): Promise<{ phoneNumberId: string; appSecret: string; verifyToken: string }> {
  const account = await t.gw.accounts.get(t.gw.tenantId, META)
  const c = account.rawConfig
  return { phoneNumberId: String(c.phone_number_id), appSecret: String(c.app_secret), verifyToken: String(c.verify_token) }
}

export function readFixture(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(FIXTURES, name), 'utf8')) as Record<string, unknown>
}

/** Rewrites every `metadata.phone_number_id` of a webhook body to `phoneNumberId`. */
export function readdressed(payload: Record<string, unknown>, phoneNumberId: string): Record<string, unknown> {
  const copy = structuredClone(payload) as { entry?: Array<{ changes?: Array<{ value?: { metadata?: { phone_number_id?: string } } }> }> }
  for (const entry of copy.entry ?? []) {
    for (const change of entry.changes ?? []) {
      if (change.value?.metadata) change.value.metadata.phone_number_id = phoneNumberId
    }
  }
  return copy as Record<string, unknown>
}

export function hubSignature(body: string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body, 'utf8').digest('hex')}`
}

export interface RawResponse {
  status: number
  text: string
  json: any
  contentType: string
}

/** One HTTP call with exactly the headers given (no default auth or content type). */
export async function raw(t: TestGateway, method: string, path: string, body?: string | Buffer, headers: Record<string, string> = {}): Promise<RawResponse> {
  const res = await request(t.url + path, { method: method as 'POST', headers, ...(body !== undefined ? { body } : {}) })
  const text = await res.body.text()
  let json: unknown
  try {
    json = text ? JSON.parse(text) : undefined
  } catch {
    json = undefined
  }
  return { status: res.statusCode, text, json, contentType: String(res.headers['content-type'] ?? '') }
}

/** POSTs a Meta webhook body; signature `undefined` sends none. */
export function postMetaWebhook(t: TestGateway, path: string, body: string, signature: string | undefined) {
  return raw(t, 'POST', path, body, { 'content-type': 'application/json', ...(signature !== undefined ? { 'x-hub-signature-256': signature } : {}) })
}

export async function listEvents(t: TestGateway, type: string): Promise<any[]> {
  const r = await t.api('GET', `/v1/events?type=${encodeURIComponent(type)}&limit=1000`)
  if (r.status !== 200) throw new Error(`GET /v1/events answered ${r.status}: ${r.text}`)
  return r.json.data as any[]
}

/** Every message row of the tenant (all pages). */
export async function allMessages(t: TestGateway, query = ''): Promise<any[]> {
  const out: any[] = []
  let before: string | null | undefined
  for (;;) {
    const r = await t.api('GET', `/v1/messages?limit=500${query}${before ? `&before=${before}` : ''}`)
    if (r.status !== 200) throw new Error(`GET /v1/messages answered ${r.status}: ${r.text}`)
    out.push(...r.json.data)
    before = r.json.next_before
    if (!before) return out
  }
}

export interface ProxiedCall {
  /** When the gateway's request reached the proxy (ms). */
  at: number
  path: string
  status: number
  requestBody: string
  responseBody: string
}

export interface SendProxy {
  url: string
  calls: ProxiedCall[]
  close(): Promise<void>
}

/**
 * A loopback pass-through between the gateway and the simulator: records every provider call
 * with its arrival time (faulted ones too, which the simulator does not record) and can run a hook
 * after the simulator answered and before the gateway sees the answer.
 */
export async function startSendProxy(target: string, beforeAnswer?: (call: ProxiedCall) => Promise<void>): Promise<SendProxy> {
  const { createServer } = await import('node:http')
  const calls: ProxiedCall[] = []
  const server = createServer((req, res) => {
    const at = Date.now()
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const requestBody = Buffer.concat(chunks).toString('utf8')
      const headers: Record<string, string> = {}
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string' && !['host', 'connection', 'content-length', 'transfer-encoding'].includes(k)) headers[k] = v
      void (async () => {
        try {
          const upstream = await request(target + (req.url ?? '/'), { method: (req.method ?? 'POST') as 'POST', headers, ...(requestBody ? { body: requestBody } : {}) })
          const responseBody = await upstream.body.text()
          const call: ProxiedCall = { at, path: req.url ?? '/', status: upstream.statusCode, requestBody, responseBody }
          calls.push(call)
          if (beforeAnswer) await beforeAnswer(call)
          const ct = upstream.headers['content-type']
          res.writeHead(upstream.statusCode, typeof ct === 'string' ? { 'content-type': ct } : {})
          res.end(responseBody)
        } catch (err) {
          calls.push({ at, path: req.url ?? '/', status: 599, requestBody, responseBody: String(err) })
          res.destroy()
        }
      })()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address() as { port: number }
  return {
    url: `http://127.0.0.1:${address.port}`,
    calls,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

/** A Meta status webhook body built on the captured fixture webhook-status-sent.json. */
export function statusWebhook(phoneNumberId: string, wamid: string, status: string, recipientId: string, timestampSec: number, errors?: unknown[]): string {
  const payload = readdressed(readFixture('webhook-status-sent.json'), phoneNumberId) as {
    entry: Array<{ changes: Array<{ value: { statuses: Array<Record<string, unknown>>; contacts?: Array<Record<string, unknown>> } }> }>
  }
  const value = payload.entry[0]!.changes[0]!.value
  const s = value.statuses[0]!
  s.id = wamid
  s.status = status
  s.recipient_id = recipientId
  s.timestamp = String(timestampSec)
  if (status !== 'sent' && status !== 'delivered') {
    delete s.conversation
    delete s.pricing
  }
  if (errors) s.errors = errors
  value.contacts = [{ profile: { name: 'Test Name' }, wa_id: recipientId }]
  return JSON.stringify(payload)
}

