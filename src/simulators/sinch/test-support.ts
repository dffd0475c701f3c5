import { createHmac, timingSafeEqual } from 'node:crypto'
import { request } from 'undici'
import { startCaptureServer, type CaptureServer, type CapturedRequest } from '../../../test/harness/capture-server.js'
import { createSinchSimulator } from './simulator.js'
import type { SinchSimApp, SinchSimulator, SinchSimulatorOptions } from './types.js'

/** Shared set-up for the simulator's own tests (not used by production code). */

export const WEBHOOK_SECRET = 'foo_secret1234'

export function testApp(webhookUrl: string, overrides: Partial<SinchSimApp> = {}): SinchSimApp {
  return {
    projectId: 'proj-1',
    appId: '01APPSIM000000000000000001',
    keyId: 'key-id-1',
    keySecret: 'key-secret-1',
    webhookUrl,
    webhookSecret: WEBHOOK_SECRET,
    senderNumber: '+15550001111',
    ...overrides,
  }
}

export interface Rig {
  sim: SinchSimulator
  hooks: CaptureServer
  app: SinchSimApp
  close(): Promise<void>
}

export async function startRig(options: Omit<SinchSimulatorOptions, 'apps'> = {}, app: Partial<SinchSimApp> = {}): Promise<Rig> {
  const hooks = await startCaptureServer(() => ({ status: 200 }))
  const theApp = testApp(`${hooks.url}/webhooks/sinch/acc`, app)
  const sim = createSinchSimulator({
    timings: { sentMs: 10, deliveredMs: 50, readMs: 90 },
    webhookRetryDelaysMs: [20, 20],
    ...options,
    apps: [theApp],
  })
  await sim.start()
  return {
    sim,
    hooks,
    app: theApp,
    async close() {
      await sim.stop()
      await hooks.close()
    },
  }
}

export interface HttpAnswer {
  status: number
  headers: Record<string, string | string[] | undefined>
  json: unknown
}

export async function call(url: string, init: { method?: string; headers?: Record<string, string>; body?: string }): Promise<HttpAnswer> {
  const res = await request(url, { method: (init.method ?? 'POST') as 'POST', headers: init.headers ?? {}, body: init.body ?? null })
  const text = await res.body.text()
  let json: unknown = undefined
  try {
    json = text ? JSON.parse(text) : undefined
  } catch {
    json = text
  }
  return { status: res.statusCode, headers: res.headers, json }
}

export const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`

export async function fetchToken(rig: Rig): Promise<string> {
  const answer = await call(`${rig.sim.url}/oauth2/token`, {
    headers: { authorization: basic(rig.app.keyId, rig.app.keySecret), 'content-type': 'application/x-www-form-urlencoded' },
    body: 'grant_type=client_credentials',
  })
  if (answer.status !== 200) throw new Error(`token refused: ${answer.status}`)
  return (answer.json as { access_token: string }).access_token
}

export function sendUrl(rig: Rig, projectId = rig.app.projectId): string {
  return `${rig.sim.url}/v1/projects/${projectId}/messages:send`
}

export async function sendMessage(rig: Rig, body: unknown, authorization: string): Promise<HttpAnswer> {
  return call(sendUrl(rig), {
    headers: { authorization, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
}

export function textTo(rig: Rig, identity: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    app_id: rig.app.appId,
    recipient: { identified_by: { channel_identities: [{ channel: 'WHATSAPP', identity }] } },
    message: { text_message: { text: 'hello' } },
    ...extra,
  }
}

/** Independent check of a captured callback's signature, straight from the documented algorithm. */
export function signatureIsValid(hook: CapturedRequest, secret: string): boolean {
  const header = (name: string) => String(hook.headers[name] ?? '')
  const expected = createHmac('sha256', secret)
    .update(`${hook.raw}.${header('x-sinch-webhook-signature-nonce')}.${header('x-sinch-webhook-signature-timestamp')}`)
    .digest()
  const given = Buffer.from(header('x-sinch-webhook-signature'), 'base64')
  return given.length === expected.length && timingSafeEqual(given, expected)
}

/** Polls until `predicate` holds (webhooks arrive asynchronously). */
export async function until(predicate: () => boolean, timeoutMs = 3000): Promise<void> {
  const started = Date.now()
  while (!predicate()) {
    if (Date.now() - started > timeoutMs) throw new Error('condition not met in time')
    await new Promise((r) => setTimeout(r, 5))
  }
}
