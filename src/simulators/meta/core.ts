import type { ServerResponse } from 'node:http'
import { createFaultPicker, mulberry32, type FaultPicker } from '../shared/faults.js'
import { createWebhookPoster, type WebhookPoster } from '../shared/webhook-poster.js'
import {
  emptyStats,
  DEFAULT_STATUS_TIMINGS,
  type SentRecord,
  type SimulatedInbound,
  type SimulatorStats,
  type StatusTimings,
} from '../types.js'
import { buildInbound, type StoredMedia } from './inbound.js'
import type { MetaSimAccount, MetaSimulatorOptions, MetaTemplate } from './types.js'
import { envelope, signedWebhook, statusValue, type StatusName, type StatusSubject } from './webhooks.js'
import { waIdFor } from './wa-id.js'

/** Served by the templates route when the options give none. */
export const DEFAULT_TEMPLATES: MetaTemplate[] = [
  {
    name: 'hello_world',
    language: 'en_US',
    category: 'UTILITY',
    components: [
      { type: 'HEADER', format: 'TEXT', text: 'Hello World' },
      { type: 'BODY', text: 'Welcome and congratulations!! This message demonstrates your ability to send a WhatsApp message notification from the Cloud API, hosted by Meta.' },
      { type: 'FOOTER', text: 'WhatsApp Business Platform sample message' },
    ],
  },
  {
    name: 'order_update',
    language: 'en_US',
    category: 'UTILITY',
    components: [
      { type: 'BODY', text: 'Hi {{1}}, your order {{2}} is on its way.', example: { body_text: [['Ana', '#1234']] } },
      { type: 'BUTTONS', buttons: [{ type: 'QUICK_REPLY', text: 'Track' }] },
    ],
  },
  {
    // The template of the courier fixture send-template-request.json: image header, two body
    // variables, a quick reply and a URL button with a variable suffix.
    name: 'revive_issue',
    language: 'en_US',
    category: 'UTILITY',
    components: [
      { type: 'HEADER', format: 'IMAGE', example: { header_handle: ['https://example.com/header.jpg'] } },
      { type: 'BODY', text: 'Hi {{1}}, your issue {{2}} is waiting for you.', example: { body_text: [['Ryan', '#42']] } },
      { type: 'BUTTONS', buttons: [{ type: 'QUICK_REPLY', text: 'Sip' }, { type: 'URL', text: 'Open issue', url: 'https://example.com/issues/{{1}}', example: ['https://example.com/issues/42'] }] },
    ],
  },
  {
    // Asks a contact whose window is closed to reply (the gateway's interaction request).
    name: 'interaction_request',
    language: 'en_US',
    category: 'UTILITY',
    components: [
      { type: 'BODY', text: 'We have news for you. Would you like to receive it here?' },
      { type: 'BUTTONS', buttons: [{ type: 'QUICK_REPLY', text: 'Yes' }, { type: 'QUICK_REPLY', text: 'No' }] },
    ],
  },
]

/** meta.md §5: a contact's message opens a 24 h customer-service window. */
export const WINDOW_MS = 24 * 3600 * 1000

/**
 * The simulator's state and behaviour apart from HTTP: accounts, records, counters, faults and the
 * webhooks it owes the gateway. The Graph and control routes both drive it.
 */
export interface SimCore {
  accounts: Map<string, MetaSimAccount>
  stats: SimulatorStats
  records: SentRecord[]
  faults: FaultPicker
  poster: WebhookPoster
  media: Map<string, StoredMedia>
  templates: MetaTemplate[]
  /** True when the options listed templates: sends are then checked against them. */
  strictTemplates: boolean
  /** Free-form sends outside the 24 h window fail with 131047 (options.enforceWindow). */
  enforceWindow: boolean
  /** Last inbound message time per `phoneNumberId:wa_id`, for the window. */
  lastInbound: Map<string, number>
  /** Sockets of `timeout`-faulted sends, released on stop. */
  hung: Set<ServerResponse>
  /** Pending `slow` fault timers, cleared on stop. */
  timers: Set<NodeJS.Timeout>
  /** Counts server_error faults so they alternate between a 500 body and an empty 503. */
  serverErrors: number
  baseUrl(): string
  addAccount(account: MetaSimAccount): void
  /** Records an accepted send and counts it as a duplicate when its clientRef was seen. */
  recordSent(record: SentRecord): void
  scheduleStatuses(account: MetaSimAccount, subject: StatusSubject, plan: 'full' | 'sent_only' | 'failed'): void
  inbound(accountKey: string, message: SimulatedInbound): Promise<{ providerMessageId: string }>
}

export function createSimCore(options: MetaSimulatorOptions, baseUrl: () => string): SimCore {
  const timings: StatusTimings = { ...DEFAULT_STATUS_TIMINGS, ...options.timings }
  const shuffleRandom = mulberry32((options.seed ?? 1) ^ 0x5bd1e995)
  const stats: SimulatorStats = emptyStats()
  const seenRefs = new Set<string>()
  const accounts = new Map<string, MetaSimAccount>()
  const posterOptions = {
    onDelivered: () => void stats.webhooksDelivered++,
    onFailedAttempt: () => void stats.webhooksFailed++,
  }
  const poster = createWebhookPoster({
    ...posterOptions,
    ...(options.webhookRetryDelaysMs ? { retryDelaysMs: options.webhookRetryDelaysMs } : {}),
    ...(options.webhookMaxInFlight ? { maxInFlight: options.webhookMaxInFlight } : {}),
  })

  const core: SimCore = {
    accounts,
    stats,
    records: [],
    faults: createFaultPicker(options.seed ?? 1),
    poster,
    media: new Map(),
    templates: options.templates ?? DEFAULT_TEMPLATES,
    strictTemplates: options.templates !== undefined,
    enforceWindow: options.enforceWindow ?? false,
    lastInbound: new Map(),
    hung: new Set(),
    timers: new Set(),
    serverErrors: 0,
    baseUrl,
    addAccount(account) {
      accounts.set(account.phoneNumberId, account)
    },
    recordSent(record) {
      stats.sent++
      if (record.clientRef !== undefined) {
        if (seenRefs.has(record.clientRef)) stats.duplicates++
        else seenRefs.add(record.clientRef)
      }
      core.records.push(record)
    },
    scheduleStatuses(account, subject, plan) {
      const steps: StatusName[] = plan === 'failed' ? ['failed'] : plan === 'sent_only' ? ['sent'] : ['sent', 'delivered', 'read']
      const happenAt = [timings.sentMs, timings.deliveredMs, timings.readMs].slice(0, steps.length)
      // Timestamps keep the true order; only the delivery order is shuffled.
      const postAt = options.shuffleStatuses ? shuffled(happenAt, shuffleRandom) : happenAt
      const now = Date.now()
      steps.forEach((status, i) => {
        const payload = envelope(account, statusValue(subject, status, now + (happenAt[i] ?? 0)))
        poster.post(signedWebhook(account, payload), postAt[i] ?? 0)
      })
    },
    async inbound(accountKey, message) {
      const account = accounts.get(accountKey)
      if (!account) throw new Error(`meta simulator: unknown phone number id ${accountKey}`)
      const built = await buildInbound(account, message)
      core.lastInbound.set(`${account.phoneNumberId}:${waIdFor(message.from)}`, Date.now())
      if (built.media) core.media.set(built.media.id, built.media)
      poster.post(signedWebhook(account, envelope(account, built.payloadValue)))
      return { providerMessageId: built.wamid }
    },
  }
  for (const account of options.accounts ?? []) core.addAccount(account)
  return core
}

/**
 * Fisher–Yates with the given random source; returns a new array.
 *
 * @example
 * shuffled([1, 2, 3], mulberry32(7))
 */
export function shuffled<T>(items: T[], random: () => number): T[] {
  const out = [...items]
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    const a = out[i] as T
    out[i] = out[j] as T
    out[j] = a
  }
  return out
}
