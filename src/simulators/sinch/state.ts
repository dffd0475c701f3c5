import type { FaultPicker } from '../shared/faults.js'
import type { WebhookPoster } from '../shared/webhook-poster.js'
import type { SentRecord, SimulatorStats, StatusTimings } from '../types.js'
import { whatsappIdentity } from './identity.js'
import { sinchSignatureHeaders } from './signature.js'
import type { TokenStore } from './tokens.js'
import type { SinchSimApp } from './types.js'

/** Everything the simulator's routes share. One per simulator instance. */
export interface SinchSimState {
  apps: Map<string, SinchSimApp>
  tokens: TokenStore
  faults: FaultPicker
  poster: WebhookPoster
  nextId: () => string
  now: () => number
  timings: StatusTimings
  sent: SentRecord[]
  seenClientRefs: Set<string>
  counters: SimulatorStats
  /** Contacts Sinch created in CONVERSATION mode, keyed `${appId}|${whatsapp identity}`. */
  contacts: Map<string, SimContact>
  contactsById: Map<string, SimContact>
  /** `${appId}|${whatsapp identity}` of contacts that opted out. */
  optedOut: Set<string>
  serverErrorsServed: number
  /** Timers of `slow` sends, cleared on stop. */
  timers: Set<NodeJS.Timeout>
}

export interface SimContact {
  appId: string
  identity: string
  contactId: string
  conversationId: string
}

export const contactKey = (appId: string, number: string) => `${appId}|${whatsappIdentity(number)}`

/** The contact (and its one conversation) for a number, created on first sight like Sinch does. */
export function contactFor(state: SinchSimState, appId: string, number: string): SimContact {
  const key = contactKey(appId, number)
  let contact = state.contacts.get(key)
  if (!contact) {
    contact = { appId, identity: whatsappIdentity(number), contactId: state.nextId(), conversationId: state.nextId() }
    state.contacts.set(key, contact)
    state.contactsById.set(contact.contactId, contact)
  }
  return contact
}

/**
 * Queues one callback. The body is built when first attempted (so its times are the delivery
 * times) and kept for retries; each attempt is signed afresh with a new nonce and timestamp so a
 * receiver's freshness and replay checks pass on retries.
 */
export function postCallback(
  state: SinchSimState,
  target: { url: string; secret?: string },
  build: () => Record<string, unknown>,
  delayMs = 0,
): void {
  let body: string | undefined
  state.poster.post(
    {
      url: target.url,
      headers: {},
      body: '',
      resign: () => {
        body ??= JSON.stringify(build())
        const signature = target.secret
          ? sinchSignatureHeaders(body, target.secret, state.nextId(), Math.floor(state.now() / 1000))
          : {}
        return { headers: { 'content-type': 'application/json', ...signature }, body }
      },
    },
    delayMs,
  )
}
