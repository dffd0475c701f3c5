import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createFaultPicker } from '../shared/faults.js'
import { createWebhookPoster } from '../shared/webhook-poster.js'
import { DEFAULT_STATUS_TIMINGS, type SimulatedInbound } from '../types.js'
import { handleSend, handleToken } from './api-routes.js'
import { inboundMessageCallback, optNotificationCallback } from './callbacks.js'
import { handleControl } from './control-routes.js'
import { sendJson, SimRequestError } from './http.js'
import { digitsOf, whatsappIdentity } from './identity.js'
import { createUlidFactory } from './ids.js'
import { contactMessageFor } from './inbound.js'
import { contactFor, contactKey, postCallback, type SinchSimState } from './state.js'
import { createTokenStore } from './tokens.js'
import type { SinchSimApp, SinchSimulator, SinchSimulatorOptions, SinchSimulatorStats } from './types.js'
import { notFound } from './wire-errors.js'

/** `messages:send`, also when a client percent-encodes the colon. */
const SEND_PATH = /^\/v1\/projects\/([^/]+)\/messages(?::|%3A)send$/i

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment)
  } catch {
    return segment
  }
}

/**
 * A fake Sinch Conversation API (WhatsApp channel) written from the Sinch documentation: OAuth2
 * tokens, `messages:send`, signed MESSAGE_DELIVERY / MESSAGE_INBOUND / OPT_OUT callbacks, injected
 * faults. The OAuth endpoint and the API share one origin: point both `base_url` and `auth_url`
 * (`${url}/oauth2/token`) at it.
 *
 * @example
 * const sim = createSinchSimulator({ apps: [{ projectId: 'p', appId: 'APP', keyId: 'k', keySecret: 's',
 *   webhookUrl: 'http://127.0.0.1:3000/webhooks/sinch/acc', webhookSecret: 'hmac', senderNumber: '+15550001111' }] })
 * await sim.start()
 * await sim.inbound('APP', { from: '+46712312312', text: 'hello' })
 * await sim.idle(); await sim.stop()
 */
export function createSinchSimulator(options: SinchSimulatorOptions = {}): SinchSimulator {
  const now = options.now ?? Date.now
  const counters = { requests: 0, sent: 0, faulted: 0, rejected: 0, duplicates: 0, webhooksDelivered: 0, webhooksFailed: 0 }
  const state: SinchSimState = {
    apps: new Map(),
    tokens: createTokenStore({ ttlSeconds: options.tokenTtlSeconds ?? 3600, now }),
    faults: createFaultPicker(options.seed ?? 1),
    poster: createWebhookPoster({
      ...(options.webhookRetryDelaysMs && { retryDelaysMs: options.webhookRetryDelaysMs }),
      onDelivered: () => void counters.webhooksDelivered++,
      onFailedAttempt: () => void counters.webhooksFailed++,
    }),
    nextId: createUlidFactory(options.seed ?? 1, now),
    now,
    timings: { ...DEFAULT_STATUS_TIMINGS, ...options.timings },
    sent: [],
    seenClientRefs: new Set(),
    counters,
    contacts: new Map(),
    contactsById: new Map(),
    optedOut: new Set(),
    serverErrorsServed: 0,
    timers: new Set(),
  }
  let server: Server | undefined
  let baseUrl = ''

  const appOrThrow = (appId: string): SinchSimApp => {
    const app = state.apps.get(appId)
    if (!app) throw new SimRequestError(404, `unknown Sinch app ${appId}`)
    return app
  }
  const targetOf = (app: SinchSimApp) => ({
    url: app.webhookUrl,
    ...(app.webhookSecret !== undefined && { secret: app.webhookSecret }),
  })

  const emitOpt = async (appId: string, number: string, optIn: boolean) => {
    const app = appOrThrow(appId)
    const contact = contactFor(state, appId, number)
    const requestId = state.nextId()
    if (optIn) state.optedOut.delete(contactKey(appId, number))
    else state.optedOut.add(contactKey(appId, number))
    postCallback(state, targetOf(app), () =>
      optNotificationCallback(
        { appId, projectId: app.projectId, at: now() },
        { optIn, contactId: contact.contactId, identity: contact.identity, requestId },
      ),
    )
    return { requestId }
  }

  const sim: SinchSimulator = {
    provider: 'sinch',
    get url() {
      return baseUrl
    },
    addApp(app) {
      state.apps.set(app.appId, { ...app })
    },
    async start() {
      if (server) return
      server = createServer((req, res) => void route(req, res))
      const listening = server
      await new Promise<void>((resolve, reject) => {
        listening.once('error', reject)
        listening.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve())
      })
      const { address, port } = listening.address() as AddressInfo
      baseUrl = `http://${address.includes(':') ? `[${address}]` : address}:${port}`
    },
    async stop() {
      state.poster.stop()
      for (const timer of state.timers) clearTimeout(timer)
      state.timers.clear()
      const running = server
      server = undefined
      if (!running) return
      running.closeAllConnections()
      await new Promise<void>((resolve) => running.close(() => resolve()))
    },
    async inbound(appId: string, message: SimulatedInbound) {
      const app = appOrThrow(appId)
      const contact = contactFor(state, appId, message.from)
      const lastSentToContact = () =>
        [...state.sent].reverse().find((s) => s.account === appId && whatsappIdentity(s.to) === contact.identity)?.providerMessageId
      const contactMessage = contactMessageFor(message, lastSentToContact)
      if (!contactMessage) throw new SimRequestError(400, 'inbound needs text, media or button')
      const messageId = state.nextId()
      postCallback(state, targetOf(app), () =>
        inboundMessageCallback(
          { appId, projectId: app.projectId, at: now() },
          {
            messageId,
            conversationId: contact.conversationId,
            contactId: contact.contactId,
            identity: contact.identity,
            senderId: digitsOf(app.senderNumber),
            contactMessage,
          },
        ),
      )
      return { providerMessageId: messageId }
    },
    optOut: (appId, number) => emitOpt(appId, number, false),
    optIn: (appId, number) => emitOpt(appId, number, true),
    setFaults: (rules) => state.faults.set(rules),
    clearFaults: () => state.faults.clear(),
    sent: () => [...state.sent],
    stats: (): SinchSimulatorStats => ({ ...counters, tokensIssued: state.tokens.issuedCount() }),
    idle: (timeoutMs) => state.poster.idle(timeoutMs),
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://simulator').pathname
    try {
      if (path.startsWith('/_sim/')) return await handleControl(sim, path, req, res)
      counters.requests++
      if (req.method === 'POST' && path === '/oauth2/token') return await handleToken(state, req, res)
      const send = SEND_PATH.exec(path)
      if (req.method === 'POST' && send?.[1]) return await handleSend(state, safeDecode(send[1]), req, res)
      const missing = notFound(path)
      sendJson(res, missing.httpStatus, missing.body)
    } catch (err) {
      sendJson(res, 500, { error: { code: 500, message: (err as Error).message, status: 'INTERNAL' } })
    }
  }

  for (const app of options.apps ?? []) sim.addApp(app)
  return sim
}
