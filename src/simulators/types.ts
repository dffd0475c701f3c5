import type { ProviderId } from '../providers/types.js'

/**
 * The common face of every provider simulator. A simulator is a fake provider HTTP server written
 * from the provider's documentation (never from wagate's adapter), so that it can catch the
 * adapter's mistakes. It runs in-process (sandbox, tests) or as its own process (benchmarks), and
 * is driven either through this object or through its `/_sim/*` HTTP control routes.
 */

/** A simulated contact sends something to a business account. */
export interface SimulatedInbound {
  /** The contact's number, E.164 (`+5535987654321`) or digits. */
  from: string
  text?: string
  media?: { url: string; mime_type?: string; caption?: string; filename?: string }
  /** A template quick-reply button tapped. */
  button?: { text: string; payload?: string }
  /** Provider message id of the business message being replied to (quoted). */
  reply_to?: string
  /** Contact display name. */
  name?: string
}

export type FaultKind =
  /** The recipient is not on WhatsApp (provider's own code and timing: sync error or failed status). */
  | 'not_on_whatsapp'
  /** Account throughput exceeded (Meta 130429, Twilio 63018/20429, Sinch RATE_LIMITED…). */
  | 'rate_limit'
  /** Per-recipient pacing exceeded (Meta 131056). */
  | 'pair_rate_limit'
  /** HTTP 5xx from the send endpoint. */
  | 'server_error'
  /** The send request hangs past any reasonable client timeout (never answers). */
  | 'timeout'
  /** Answers correctly but only after `delayMs`. */
  | 'slow'

export interface FaultRule {
  kind: FaultKind
  /** Fraction of matching send calls affected, 0..1 (default 1). Uses the simulator's seeded RNG. */
  probability?: number
  /** Stop after affecting this many calls (default unlimited). */
  count?: number
  /** For `slow`. */
  delayMs?: number
  /** Only sends to these recipients (digits or E.164; compared on digits). */
  recipients?: string[]
}

/** One send call the simulator accepted (after auth and shape checks). */
export interface SentRecord {
  providerMessageId: string
  /** The account key the call was made for (Meta phone_number_id, Twilio From, …). */
  account: string
  /** Recipient as given on the wire. */
  to: string
  type: string
  /** The parsed request body (JSON object, or form fields as an object). */
  body: unknown
  /** wagate's message id when the adapter passed one the simulator can read, for duplicate counting. */
  clientRef?: string
  at: number
}

export interface SimulatorStats {
  /** Every HTTP request to the provider API routes, including refused ones. */
  requests: number
  /** Successful sends. */
  sent: number
  /** Sends refused by an injected fault. */
  faulted: number
  /** Sends refused for bad auth or bad shape. */
  rejected: number
  /** Accepted sends whose clientRef was already seen: the gateway sent something twice. */
  duplicates: number
  /** Webhooks delivered to the gateway with a 2xx answer. */
  webhooksDelivered: number
  /** Webhook attempts the gateway did not accept (non-2xx or connection error); they are retried. */
  webhooksFailed: number
}

export interface Simulator {
  provider: ProviderId
  /** Base URL of the running simulator (after `start()`), e.g. `http://127.0.0.1:40123`. */
  readonly url: string
  start(): Promise<void>
  /** Stops the server and pending webhook timers. */
  stop(): Promise<void>
  /** Makes a contact send a message; the simulator signs it and posts it to the account's webhook. */
  inbound(accountKey: string, message: SimulatedInbound): Promise<{ providerMessageId: string }>
  setFaults(rules: FaultRule[]): void
  clearFaults(): void
  sent(): SentRecord[]
  stats(): SimulatorStats
  /** Resolves when no webhook is waiting to be (re)delivered. */
  idle(timeoutMs?: number): Promise<void>
}

/** Timing of the status webhooks a simulator emits after an accepted send. */
export interface StatusTimings {
  /** Milliseconds after the send before each status (default: sent 20, delivered 60, read 120). */
  sentMs: number
  deliveredMs: number
  readMs: number
}

export const DEFAULT_STATUS_TIMINGS: StatusTimings = { sentMs: 20, deliveredMs: 60, readMs: 120 }

/** Fresh counters for a simulator's `stats()`. */
export const emptyStats = (): SimulatorStats => ({
  requests: 0,
  sent: 0,
  faulted: 0,
  rejected: 0,
  duplicates: 0,
  webhooksDelivered: 0,
  webhooksFailed: 0,
})
