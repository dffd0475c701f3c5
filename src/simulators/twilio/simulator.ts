import { randomUUID } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createFaultPicker, mulberry32 } from '../shared/faults.js'
import { createWebhookPoster } from '../shared/webhook-poster.js'
import {
  emptyStats,
  DEFAULT_STATUS_TIMINGS,
  type SentRecord,
  type Simulator,
  type SimulatedInbound,
  type SimulatorStats,
  type StatusTimings,
} from '../types.js'
import { createAccountRegistry, isAuthorized, type TwilioSimAccount } from './accounts.js'
import { handleControl } from './control.js'
import { readBody, sendJson } from './http.js'
import { inboundParams } from './inbound.js'
import { messageResource, statusCallbackParams, type StoredMessage } from './messages.js'
import { handleSend, windowKey, type ApiReply, type SendContext } from './send.js'
import { encodeForm, twilioSignature, type FormParams } from './signature.js'
import { API_VERSION, digitsOf, newSid, twilioError } from './wire.js'

export interface TwilioSimulatorOptions {
  /** Port to listen on (default 0: any free port). */
  port?: number
  /** Default `127.0.0.1`. */
  host?: string
  accounts?: TwilioSimAccount[]
  /** Delay of each status callback after the send (ms). */
  timings?: Partial<StatusTimings>
  /** Seed of the fault picker's RNG (default 1). */
  seed?: number
  /** Retry delays of webhooks the gateway does not accept (default: the shared poster's). */
  webhookRetryDelaysMs?: number[]
  /** Base URL the gateway reaches the simulator at, for media URLs (default: `url`). */
  publicUrl?: string
  /** Recipients that opted out (STOP) of every account's SMS: SMS sends to them answer 21610. */
  optedOut?: string[]
  /** Fail free-form WhatsApp sends with 63016 unless the contact wrote in the last 24 h (default false). */
  enforceWindow?: boolean
  /** Post each message's callbacks in a seeded random order: Twilio does not guarantee order (D-TRK). */
  shuffleStatuses?: boolean
}

export interface TwilioSimulator extends Simulator {
  provider: 'twilio'
  /** Adds or replaces an account (keyed by its SID). */
  addAccount(account: TwilioSimAccount): void
}

const SEND_PATH = /^\/2010-04-01\/Accounts\/([^/]+)\/Messages\.json$/
const FETCH_PATH = /^\/2010-04-01\/Accounts\/([^/]+)\/Messages\/([^/]+)\.json$/
const MEDIA_PATH = /^\/2010-04-01\/Accounts\/([^/]+)\/Messages\/([^/]+)\/Media\/([^/.]+)(?:\.json)?$/

/**
 * A fake Twilio Programmable Messaging API (twilio.md): Basic-auth REST sends, signed status
 * callbacks to each send's `StatusCallback`, signed inbound webhooks, injected faults.
 *
 * @example
 * const sim = createTwilioSimulator({ accounts: [{ accountSid, authToken, numbers: ['+14155238886'],
 *   inboundWebhookUrl: 'http://127.0.0.1:3000/webhooks/twilio/main' }] })
 * await sim.start()
 * // POST `${sim.url}/2010-04-01/Accounts/${accountSid}/Messages.json` …
 * await sim.inbound('+14155238886', { from: '+31612345678', text: 'hi' })
 * await sim.stop()
 */
export function createTwilioSimulator(options: TwilioSimulatorOptions = {}): TwilioSimulator {
  const host = options.host ?? '127.0.0.1'
  const timings: StatusTimings = { ...DEFAULT_STATUS_TIMINGS, ...options.timings }
  const accounts = createAccountRegistry()
  for (const account of options.accounts ?? []) accounts.add(account)
  const faults = createFaultPicker(options.seed ?? 1)
  const shuffleRandom = mulberry32((options.seed ?? 1) ^ 0x5f3759df)
  const stats: SimulatorStats = emptyStats()
  const poster = createWebhookPoster({
    ...(options.webhookRetryDelaysMs ? { retryDelaysMs: options.webhookRetryDelaysMs } : {}),
    onDelivered: () => stats.webhooksDelivered++,
    onFailedAttempt: () => stats.webhooksFailed++,
  })
  const messages = new Map<string, StoredMessage>()
  const media = new Map<string, { accountSid: string; url: string }>()
  const sentRecords: SentRecord[] = []
  const seenClientRefs = new Set<string>()
  const installSids = new Map<string, string>()
  const lastInbound = new Map<string, number>()
  let server: Server | undefined
  let baseUrl = ''

  const postSigned = (url: string, params: FormParams, authToken: string, delayMs: number) => {
    poster.post(
      {
        url,
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'x-twilio-signature': twilioSignature(authToken, url, params),
          'i-twilio-idempotency-token': randomUUID(),
          'user-agent': 'TwilioProxy/1.1',
        },
        body: encodeForm(params),
      },
      delayMs,
    )
  }

  const sendContext: SendContext = {
    accounts,
    faults,
    stats,
    timings,
    optedOut: new Set((options.optedOut ?? []).map(digitsOf)),
    enforceWindow: options.enforceWindow ?? false,
    lastInbound,
    now: () => Date.now(),
    channelInstallSid(account, senderNumber) {
      const key = `${account.accountSid}:${senderNumber}`
      let sid = installSids.get(key)
      if (!sid) installSids.set(key, (sid = newSid('XE')))
      return sid
    },
    accept(message, record) {
      messages.set(message.sid, message)
      if (record) {
        if (record.clientRef !== undefined) {
          if (seenClientRefs.has(record.clientRef)) stats.duplicates++
          seenClientRefs.add(record.clientRef)
        }
        sentRecords.push(record)
      }
      const callbackUrl = message.request.statusCallback
      const account = accounts.bySid(message.accountSid)
      if (!callbackUrl || !account) return
      // The initial status (first step) never gets a callback (D-OMS).
      const steps = message.plan.slice(1)
      const delays = steps.map((step) => step.afterMs)
      if (options.shuffleStatuses) shuffleInPlace(delays, shuffleRandom)
      steps.forEach((step, i) => {
        postSigned(callbackUrl, statusCallbackParams(message, step), account.authToken, delays[i] ?? step.afterMs)
      })
    },
  }

  const reply = (res: ServerResponse, out: ApiReply) => {
    if ('hang' in out) return
    sendJson(res, out.status, out.json, out.headers)
  }

  const notFound = (path: string): ApiReply => ({
    status: 404,
    json: twilioError(404, 20404, `The requested resource ${path} was not found`),
  })

  const unauthorized: ApiReply = {
    status: 401,
    json: twilioError(401, 20003, 'Authenticate', 'Your AccountSid or AuthToken was incorrect.'),
    headers: { 'www-authenticate': 'Basic realm="Twilio API"' },
  }

  const handleApi = async (req: IncomingMessage, res: ServerResponse, path: string) => {
    stats.requests++
    const method = req.method ?? 'GET'
    const authorization = req.headers.authorization
    const send = SEND_PATH.exec(path)
    if (send && method === 'POST') {
      const raw = await readBody(req)
      return reply(res, await handleSend(sendContext, send[1] ?? '', authorization, raw))
    }
    const fetched = FETCH_PATH.exec(path)
    const mediaMatch = MEDIA_PATH.exec(path)
    const accountSid = (fetched ?? mediaMatch)?.[1] ?? ''
    if (method !== 'GET' || !(fetched || mediaMatch)) return reply(res, notFound(path))
    const account = accounts.bySid(accountSid)
    if (!account || !isAuthorized(account, authorization)) return reply(res, unauthorized)
    if (fetched) {
      const message = messages.get(fetched[2] ?? '')
      if (!message || message.accountSid !== accountSid) return reply(res, notFound(path))
      return reply(res, { status: 200, json: messageResource(message, Date.now()) })
    }
    const item = media.get(mediaMatch?.[3] ?? '')
    if (!item || item.accountSid !== accountSid) return reply(res, notFound(path))
    // Twilio answers a media URL with a redirect to where the file is stored.
    res.writeHead(307, { location: item.url })
    res.end()
  }

  const simulator: TwilioSimulator = {
    provider: 'twilio',
    get url() {
      return baseUrl
    },
    addAccount: (account) => accounts.add(account),
    async start() {
      if (server) return
      const created = createServer((req, res) => {
        const path = (req.url ?? '/').split('?')[0] ?? '/'
        const work = path.startsWith('/_sim/') ? handleControl(simulator, req, res, path) : handleApi(req, res, path)
        work.catch((error: unknown) => sendJson(res, 500, { error: 'simulator_error', message: String(error) }))
      })
      await new Promise<void>((resolve, reject) => {
        created.once('error', reject)
        created.listen(options.port ?? 0, host, () => resolve())
      })
      server = created
      const { port } = created.address() as AddressInfo
      baseUrl = `http://${host.includes(':') ? `[${host}]` : host}:${port}`
    },
    async stop() {
      poster.stop()
      const running = server
      server = undefined
      if (!running) return
      running.closeAllConnections()
      await new Promise<void>((resolve) => running.close(() => resolve()))
    },
    async inbound(accountKey, message: SimulatedInbound) {
      const account = accounts.byNumber(accountKey)
      const businessNumber = account?.numbers.find((n) => digitsOf(n) === digitsOf(accountKey))
      if (!account || !businessNumber) throw new Error(`no Twilio account owns the number ${accountKey}`)
      const messageSid = newSid(message.media ? 'MM' : 'SM')
      let mediaUrl: string | undefined
      if (message.media) {
        const mediaSid = newSid('ME')
        media.set(mediaSid, { accountSid: account.accountSid, url: message.media.url })
        const base = options.publicUrl ?? baseUrl
        mediaUrl = `${base}/${API_VERSION}/Accounts/${account.accountSid}/Messages/${messageSid}/Media/${mediaSid}`
      }
      const params = inboundParams(message, {
        messageSid,
        accountSid: account.accountSid,
        businessNumber,
        ...(mediaUrl ? { mediaUrl } : {}),
      })
      lastInbound.set(windowKey(businessNumber, message.from), Date.now())
      postSigned(account.inboundWebhookUrl, params, account.authToken, 0)
      return { providerMessageId: messageSid }
    },
    setFaults: (rules) => faults.set(rules),
    clearFaults: () => faults.clear(),
    sent: () => sentRecords.map((r) => ({ ...r })),
    stats: () => ({ ...stats }),
    idle: (timeoutMs) => poster.idle(timeoutMs),
  }
  return simulator
}

/** Fisher–Yates with the simulator's seeded RNG. */
function shuffleInPlace<T>(items: T[], random: () => number): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    const a = items[i] as T
    items[i] = items[j] as T
    items[j] = a
  }
}
