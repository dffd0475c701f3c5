import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createFaultPicker } from '../shared/faults.js'
import { createWebhookPoster } from '../shared/webhook-poster.js'
import type { SentRecord } from '../types.js'
import { API_ROUTES, handleSend } from './api.js'
import { handleControl, UnknownAppError } from './control.js'
import { envelope, userEvent } from './events.js'
import { sendJson } from './http.js'
import { buildInbound } from './inbound.js'
import { digitsOf } from './numbers.js'
import { emptyStats, optOutKey, resolveTimings, type SimState } from './state.js'
import type { GupshupSentMessage, GupshupSimApp, GupshupSimulator, GupshupSimulatorOptions } from './types.js'
import { GUPSHUP_ERRORS } from './wire.js'

/**
 * A fake Gupshup WhatsApp API (v1 send routes + v2 callbacks), written from Gupshup's docs.
 * Gupshup signs nothing: callbacks are plain JSON posts to each app's callback URL.
 *
 * @example
 * const sim = createGupshupSimulator({ host: '127.0.0.1', apps: [{ appName: 'DemoApp', apiKey: 'k',
 *   sourceNumber: '917834811114', callbackUrl: 'http://127.0.0.1:3000/webhooks/gupshup/demo/tok' }] })
 * await sim.start()
 * // point the adapter's base_url at sim.url; then:
 * await sim.inbound('DemoApp', { from: '+919876543210', text: 'Hi' })
 * await sim.idle()
 * await sim.stop()
 */
export function createGupshupSimulator(options: GupshupSimulatorOptions): GupshupSimulator {
  const apps = new Map<string, GupshupSimApp>()
  const holds = new Set<NodeJS.Timeout>()
  const stats = emptyStats()
  const records: SentRecord[] = []
  const messages = new Map<string, GupshupSentMessage>()
  const poster = createWebhookPoster({
    ...(options.webhookRetryDelaysMs && { retryDelaysMs: options.webhookRetryDelaysMs }),
    onDelivered: () => stats.webhooksDelivered++,
    onFailedAttempt: () => stats.webhooksFailed++,
  })
  let server: Server | undefined
  let baseUrl = ''

  const state: SimState = {
    apps,
    faults: createFaultPicker(options.seed ?? 1),
    stats,
    records,
    messages,
    optedOut: new Set(),
    timings: resolveTimings(options.timings),
    post(app, type, payload, delayMs, withPhone) {
      const body = JSON.stringify(envelope(type, app.appName, withPhone ? app.sourceNumber : undefined, Date.now() + delayMs, payload))
      poster.post({ url: app.callbackUrl, headers: { 'content-type': 'application/json', 'user-agent': 'gupshup-simulator' }, body }, delayMs)
    },
    hold(ms) {
      return new Promise((resolve) => {
        const timer = setTimeout(() => {
          holds.delete(timer)
          resolve()
        }, ms)
        holds.add(timer)
      })
    },
  }

  const appOrThrow = (appName: string): GupshupSimApp => {
    const app = apps.get(appName)
    if (!app) throw new UnknownAppError(appName)
    return app
  }

  const sim: GupshupSimulator = {
    provider: 'gupshup',
    get url() {
      return baseUrl
    },
    addApp(app) {
      apps.set(app.appName, { ...app })
    },
    async start() {
      server = createServer((req, res) => {
        const path = (req.url ?? '/').split('?')[0] ?? '/'
        const kind = API_ROUTES[path]
        const handled = kind
          ? handleSend(state, kind, req, res)
          : path.startsWith('/_sim/')
            ? handleControl(sim, path, req, res)
            : Promise.resolve(sendJson(res, 404, { message: 'Not Found', status: 'error' }))
        handled.catch(() => sendJson(res, GUPSHUP_ERRORS.internal.status, GUPSHUP_ERRORS.internal.body))
      })
      const listening = server
      await new Promise<void>((resolve, reject) => {
        listening.once('error', reject)
        listening.listen(options.port ?? 0, options.host, () => resolve())
      })
      const { port } = listening.address() as AddressInfo
      const host = options.host.includes(':') ? `[${options.host}]` : options.host
      baseUrl = `http://${host}:${port}`
    },
    async stop() {
      poster.stop()
      for (const timer of holds) clearTimeout(timer)
      holds.clear()
      const running = server
      server = undefined
      if (!running) return
      await new Promise<void>((resolve) => {
        running.closeAllConnections()
        running.close(() => resolve())
      })
    },
    async inbound(accountKey, message) {
      const app = appOrThrow(accountKey)
      const now = Date.now()
      const built = buildInbound(message, (id) => messages.get(id), now)
      if (!built.ok) throw new Error(built.error)
      state.post(app, 'message', built.payload, options.inboundDelayMs ?? 0, true)
      return { providerMessageId: built.payload.id }
    },
    async optOut(appName, number) {
      const app = appOrThrow(appName)
      const phone = digitsOf(number)
      state.optedOut.add(optOutKey(app.appName, phone))
      // The documented user-event example carries no app phone in its envelope.
      state.post(app, 'user-event', userEvent({ phone, type: 'opted-out' }), 0, false)
    },
    setFaults: (rules) => state.faults.set(rules),
    clearFaults: () => state.faults.clear(),
    sent: () => records.map((r) => ({ ...r })),
    stats: () => ({ ...stats }),
    idle: (timeoutMs) => poster.idle(timeoutMs),
  }
  for (const app of options.apps ?? []) sim.addApp(app)
  return sim
}
