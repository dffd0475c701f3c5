import type { SimulatedInbound, Simulator, SimulatorStats, StatusTimings } from '../types.js'

/**
 * One Sinch Conversation API app with a WhatsApp sender, as the simulator knows it. The access key
 * (keyId/keySecret) belongs to the project, as in Sinch's dashboard.
 *
 * @example
 * const app: SinchSimApp = { projectId: 'p1', appId: 'APP1', keyId: 'k1', keySecret: 's1',
 *   webhookUrl: 'http://127.0.0.1:3000/webhooks/sinch/acc', webhookSecret: 'hmac', senderNumber: '+15550001111' }
 */
export interface SinchSimApp {
  projectId: string
  appId: string
  keyId: string
  keySecret: string
  /** Where MESSAGE_DELIVERY, MESSAGE_INBOUND and OPT_IN/OPT_OUT callbacks go. */
  webhookUrl: string
  /** When set, callbacks carry the x-sinch-webhook-signature headers computed with it. */
  webhookSecret?: string
  /** E.164 of the WhatsApp sender (echoed as `sender_id` on inbound messages). */
  senderNumber: string
}

export interface SinchSimulatorOptions {
  /** 0 (default) picks a free port. */
  port?: number
  /** Default 127.0.0.1. */
  host?: string
  apps?: SinchSimApp[]
  timings?: Partial<StatusTimings>
  /** Seeds the fault picker and id generator so runs replay. */
  seed?: number
  /** Delays between webhook retries when the gateway does not answer 2xx. */
  webhookRetryDelaysMs?: number[]
  /** Lifetime of issued OAuth access tokens (default 3600). */
  tokenTtlSeconds?: number
  /** Clock in unix ms (default Date.now); lets tests expire tokens without waiting. */
  now?: () => number
}

export interface SinchSimulatorStats extends SimulatorStats {
  /** Access tokens handed out by `POST /oauth2/token`. */
  tokensIssued: number
}

export type OptStatus = 'OPT_OUT_SUCCEEDED' | 'OPT_IN_SUCCEEDED'

export interface SinchSimulator extends Simulator {
  provider: 'sinch'
  addApp(app: SinchSimApp): void
  /** `accountKey` is the app id. */
  inbound(appId: string, message: SimulatedInbound): Promise<{ providerMessageId: string }>
  /** Emits an OPT_OUT callback; later sends to the number fail with RECIPIENT_NOT_OPTED_IN. */
  optOut(appId: string, number: string): Promise<{ requestId: string }>
  /** Emits an OPT_IN callback and lifts an earlier opt-out. */
  optIn(appId: string, number: string): Promise<{ requestId: string }>
  stats(): SinchSimulatorStats
}
