import type { SimulatedInbound, Simulator, StatusTimings } from '../types.js'

/**
 * One Gupshup app as the simulator knows it. Gupshup has no webhook signature, so the gateway's
 * callback URL carries its own secret token; the simulator posts every event of the app there.
 *
 * @example
 * const app: GupshupSimApp = {
 *   appName: 'DemoApp',
 *   apiKey: 'k-123',
 *   sourceNumber: '917834811114',
 *   callbackUrl: 'http://127.0.0.1:3000/webhooks/gupshup/demo/s3cret',
 * }
 */
export interface GupshupSimApp {
  /** `src.name` on the wire and `app` in callbacks; the simulator's account key. */
  appName: string
  /** Value of the `apikey` header. Several apps of one Gupshup account may share a key. */
  apiKey: string
  /** The business number, E.164 digits without `+` (`source` on the wire). */
  sourceNumber: string
  callbackUrl: string
}

/** Status timings plus Gupshup's own first step, `enqueued` (handed to WhatsApp). */
export interface GupshupStatusTimings extends StatusTimings {
  enqueuedMs: number
}

export interface GupshupSimulatorOptions {
  /** 0 (default) picks a free port. */
  port?: number
  host: string
  apps?: GupshupSimApp[]
  timings?: Partial<GupshupStatusTimings>
  /** Seeds fault probabilities so a failing run can be replayed (message ids stay random UUIDs). */
  seed?: number
  webhookRetryDelaysMs?: number[]
  /**
   * Delay before an inbound message is posted. Gupshup documents a 5 s delay so a business can
   * store its outbound id first; tests want 0 (the default).
   */
  inboundDelayMs?: number
}

/** One accepted send, kept to answer replies (context ids) and interactive taps. */
export interface GupshupSentMessage {
  gsId: string
  whatsappMessageId: string
  appName: string
  /** As given on the wire. */
  destination: string
  /** What WhatsApp knows the recipient as (differs for Brazilian ninth-digit numbers). */
  waId: string
  kind: 'session' | 'template'
  /** Parsed `message` JSON (session) or `template` JSON (template). */
  content: unknown
}

export interface GupshupSimulator extends Simulator {
  provider: 'gupshup'
  addApp(app: GupshupSimApp): void
  /** `accountKey` is the app name. */
  inbound(accountKey: string, message: SimulatedInbound): Promise<{ providerMessageId: string }>
  /** The user opts out: a `user-event` `opted-out`; later sends to the number fail with 1012. */
  optOut(appName: string, number: string): Promise<void>
}
