import { request } from 'undici'
import { startCaptureServer, type CaptureServer } from '../../../test/harness/capture-server.js'
import { createGupshupSimulator } from './simulator.js'
import type { GupshupSimApp, GupshupSimulator, GupshupSimulatorOptions } from './types.js'

/** Test support for the Gupshup simulator's own tests (not a test file itself). */

export const DEMO_APP = { appName: 'DemoApp', apiKey: 'demo-api-key-0123456789', sourceNumber: '917834811114' } as const
export const CALLBACK_PATH = '/webhooks/gupshup/demo/tok3n'

export interface Rig {
  sim: GupshupSimulator
  receiver: CaptureServer
  app: GupshupSimApp
  /** Callbacks received so far, JSON-parsed. */
  callbacks(): Array<Record<string, unknown>>
  close(): Promise<void>
}

/**
 * A simulator with one app whose callbacks land in a capture server answering 200.
 *
 * @example
 * const rig = await startRig()
 * await sendSession(rig, { destination: '919876543210', message: { type: 'text', text: 'hi' } })
 */
export async function startRig(extra: Partial<GupshupSimulatorOptions> = {}): Promise<Rig> {
  const receiver = await startCaptureServer(() => ({ status: 200 }))
  const app: GupshupSimApp = { ...DEMO_APP, callbackUrl: `${receiver.url}${CALLBACK_PATH}` }
  const sim = createGupshupSimulator({
    host: '127.0.0.1',
    apps: [app],
    timings: { enqueuedMs: 2, sentMs: 12, deliveredMs: 24, readMs: 36 },
    webhookRetryDelaysMs: [20, 40],
    ...extra,
  })
  await sim.start()
  return {
    sim,
    receiver,
    app,
    callbacks: () => receiver.requests.map((r) => r.json as Record<string, unknown>),
    async close() {
      await sim.stop()
      await receiver.close()
    },
  }
}

export interface ApiAnswer {
  status: number
  json: Record<string, unknown>
}

/** Posts form fields to a simulator path the way the Gupshup API is called. */
export async function postForm(url: string, fields: Record<string, string>, apikey: string | undefined, headersTimeout?: number): Promise<ApiAnswer> {
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' }
  if (apikey !== undefined) headers.apikey = apikey
  const res = await request(url, { method: 'POST', headers, body: new URLSearchParams(fields).toString(), ...(headersTimeout && { headersTimeout }) })
  const text = await res.body.text()
  return { status: res.statusCode, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} }
}

/** A valid session send for the demo app, with fields overridable. */
export function sessionFields(destination: string, message: unknown, overrides: Record<string, string> = {}): Record<string, string> {
  return {
    channel: 'whatsapp',
    source: DEMO_APP.sourceNumber,
    destination,
    'src.name': DEMO_APP.appName,
    message: JSON.stringify(message),
    ...overrides,
  }
}

export function sendSession(rig: Rig, destination: string, message: unknown, overrides: Record<string, string> = {}): Promise<ApiAnswer> {
  return postForm(`${rig.sim.url}/wa/api/v1/msg`, sessionFields(destination, message, overrides), DEMO_APP.apiKey)
}

export function sendTemplate(rig: Rig, destination: string, template: unknown, overrides: Record<string, string> = {}): Promise<ApiAnswer> {
  const { message: _unused, ...base } = sessionFields(destination, {})
  const fields = { ...base, template: JSON.stringify(template), ...overrides }
  return postForm(`${rig.sim.url}/wa/api/v1/template/msg`, fields, DEMO_APP.apiKey)
}

/** Callbacks of type message-event about one send, in arrival order. */
export function eventsFor(rig: Rig, gsId: string): Array<Record<string, unknown>> {
  return rig.callbacks().filter((c) => {
    const p = c.payload as Record<string, unknown>
    return c.type === 'message-event' && (p.id === gsId || p.gsId === gsId)
  })
}

/**
 * Differences between the structure of `actual` and a fixture: missing keys, unexpected keys
 * (beyond `extraKeys`, given as dotted paths), and keys whose JSON type differs.
 *
 * @example
 * expect(shapeDiff(callback, readFixtureJson('gupshup', 'event-read.json'), ['phone'])).toEqual([])
 */
export function shapeDiff(actual: unknown, expected: unknown, extraKeys: string[] = [], path = ''): string[] {
  const kind = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v)
  if (kind(actual) !== kind(expected)) return [`${path || '(root)'}: ${kind(actual)} instead of ${kind(expected)}`]
  if (kind(expected) !== 'object') return []
  const a = actual as Record<string, unknown>
  const e = expected as Record<string, unknown>
  const out: string[] = []
  for (const key of Object.keys(e)) {
    const at = path ? `${path}.${key}` : key
    if (!(key in a)) out.push(`${at}: missing`)
    else out.push(...shapeDiff(a[key], e[key], extraKeys, at))
  }
  for (const key of Object.keys(a)) {
    const at = path ? `${path}.${key}` : key
    if (!(key in e) && !extraKeys.includes(at)) out.push(`${at}: unexpected`)
  }
  return out
}
