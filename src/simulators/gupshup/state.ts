import type { FaultPicker } from '../shared/faults.js'
import { DEFAULT_STATUS_TIMINGS, type SentRecord, type SimulatorStats } from '../types.js'
import type { CallbackType } from './events.js'
import type { GupshupSentMessage, GupshupSimApp, GupshupStatusTimings } from './types.js'

/** What the API routes, the control routes and the simulator object share. */
export interface SimState {
  apps: Map<string, GupshupSimApp>
  faults: FaultPicker
  stats: SimulatorStats
  records: SentRecord[]
  /** Accepted sends, by Gupshup id and by WhatsApp id. */
  messages: Map<string, GupshupSentMessage>
  /** `appName␟digits` of users who opted out of an app. */
  optedOut: Set<string>
  timings: GupshupStatusTimings
  /** Posts a callback to the app's URL after `delayMs`; `withPhone` adds the app number to the envelope. */
  post(app: GupshupSimApp, type: CallbackType, payload: unknown, delayMs: number, withPhone: boolean): void
  /** Resolves after `ms`, or never if the simulator stops first. */
  hold(ms: number): Promise<void>
}

export const optOutKey = (appName: string, digits: string) => `${appName}\u241f${digits}`

export { emptyStats } from '../types.js'

/**
 * Fills unset timings and keeps the steps in order even when a caller sets them equal, so the
 * gateway sees enqueued → sent → delivered → read unless retries reorder them.
 *
 * @example
 * resolveTimings({ sentMs: 0 }) // { enqueuedMs: 5, sentMs: 6, deliveredMs: 60, readMs: 120 }
 */
export function resolveTimings(partial: Partial<GupshupStatusTimings> = {}): GupshupStatusTimings {
  const enqueuedMs = Math.max(0, partial.enqueuedMs ?? 5)
  const sentMs = Math.max(enqueuedMs + 1, partial.sentMs ?? DEFAULT_STATUS_TIMINGS.sentMs)
  const deliveredMs = Math.max(sentMs + 1, partial.deliveredMs ?? DEFAULT_STATUS_TIMINGS.deliveredMs)
  const readMs = Math.max(deliveredMs + 1, partial.readMs ?? DEFAULT_STATUS_TIMINGS.readMs)
  return { enqueuedMs, sentMs, deliveredMs, readMs }
}
